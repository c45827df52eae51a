import type { Part } from "../../turn";

type Approval = Extract<Part, { kind: "approval" }>;

/** A tool call waiting for the owner, with its full arguments: what is approved is what is shown. */
export function ApprovalCard({
  approval,
  onDecide,
}: {
  approval: Approval;
  onDecide: (approve: boolean) => void;
}) {
  const pending = approval.state === "pending";
  return (
    <section class="card approval" aria-label={`Approval for ${approval.tool}`}>
      <header>
        <span class="tool-name">{approval.tool}</span>
        <span class="badge">{approval.state}</span>
      </header>
      <p>{approval.message}</p>
      <pre class="args">{JSON.stringify(approval.args, null, 2)}</pre>
      {pending && (
        <div class="actions">
          <button type="button" class="primary" onClick={() => onDecide(true)}>
            Approve
          </button>
          <button type="button" onClick={() => onDecide(false)}>
            Deny
          </button>
        </div>
      )}
    </section>
  );
}
