/** A plain data table with a header row and an empty-state row. */
import type { Child } from 'hono/jsx';

/**
 * `phoneHidden`: 1-based columns dropped on phones (≤ 600 px, dashboard.css `.hide-N`), so the columns that matter
 * (verdict, progress, state) stay on screen (issue 15).
 */
export function Table(props: {
  head: string[];
  empty: string;
  rows: Child[];
  id?: string;
  class?: string;
  phoneHidden?: readonly number[];
  /** 1-based columns whose header is markup (e.g. a sort link) instead of the plain text. */
  headCells?: Readonly<Record<number, Child>>;
}) {
  const hide = (props.phoneHidden ?? []).map((n) => ` hide-${n}`).join('');
  return (
    <div class="table-wrap">
      <table class={`${props.class ?? 'table'}${hide}`} {...(props.id !== undefined ? { id: props.id } : {})}>
        <thead>
          <tr>
            {props.head.map((h, i) => (
              <th scope="col">{props.headCells?.[i + 1] ?? h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length > 0 ? (
            props.rows
          ) : (
            <tr>
              <td class="empty" colspan={props.head.length}>
                {props.empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** A small coloured label. */
export function Badge(props: { kind: string; children: Child }) {
  return <span class={`badge badge-${props.kind}`}>{props.children}</span>;
}
