import type { Answer } from "../../turn";
import { ApprovalCard } from "./ApprovalCard";
import { Markdown } from "./Markdown";
import { ToolCard } from "./ToolCard";

/** One answer of AION as it streams: text, thoughts (collapsed), tool cards, approvals. */
export function AnswerView({
  answer,
  onDecide,
}: {
  answer: Answer;
  onDecide: (approvalId: string, approve: boolean) => void;
}) {
  return (
    <article class="message assistant" aria-label="AION" aria-busy={answer.running}>
      {answer.parts.map((part, index) => {
        switch (part.kind) {
          case "text":
            return <Markdown key={index} text={part.text} />;
          case "thought":
            return (
              <details key={index} class="thought">
                <summary>Thought</summary>
                <p>{part.text}</p>
              </details>
            );
          case "tool":
            return <ToolCard key={index} tool={part} />;
          case "approval":
            return <ApprovalCard key={index} approval={part} onDecide={(ok) => onDecide(part.id, ok)} />;
        }
      })}
      {answer.audio.map((url) => (
        <audio key={url} controls src={url} preload="none" />
      ))}
      {answer.running && answer.parts.length === 0 && <p class="muted">Thinking…</p>}
      {answer.cancelled && <p class="muted">Cancelled.</p>}
      {answer.error && (
        <p role="alert" class="error">
          {answer.error}
        </p>
      )}
      {answer.usage && !answer.running && (
        <p class="muted usage">
          {answer.usage.input} tokens in · {answer.usage.output} out
        </p>
      )}
    </article>
  );
}
