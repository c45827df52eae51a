/** The tools a plugin or an MCP server lends AION: name, risk and what each does. */

export interface ToolRow {
  name: string;
  risk: string;
  description: string;
}

export function ToolsTable({ owner, tools }: { owner: string; tools: ToolRow[] }) {
  return (
    <table aria-label={`Tools of ${owner}`}>
      <thead>
        <tr>
          <th scope="col">Tool</th>
          <th scope="col">Risk</th>
          <th scope="col">What it does</th>
        </tr>
      </thead>
      <tbody>
        {tools.map((t) => (
          <tr key={t.name}>
            <td class="mono">{t.name}</td>
            <td>
              <span class={`badge risk-${t.risk}`}>{t.risk}</span>
            </td>
            <td>{t.description}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
