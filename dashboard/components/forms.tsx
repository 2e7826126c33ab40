/** Form helpers: every form the dashboard renders carries the session's CSRF token. */
import type { Child } from 'hono/jsx';
import { CSRF_FIELD } from '../session/csrf';

export function CsrfInput(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

/** A POST form with one button (and optional extra fields). `confirm` asks in the browser first (live.js). */
export function PostButton(props: {
  action: string;
  csrf: string;
  label: string;
  kind?: 'primary' | 'danger' | 'plain';
  confirm?: string;
  children?: Child;
}) {
  return (
    <form method="post" action={props.action} class="inline-form" {...(props.confirm ? { 'data-confirm': props.confirm } : {})}>
      <CsrfInput token={props.csrf} />
      {props.children}
      <button type="submit" class={`btn btn-${props.kind ?? 'plain'}`}>
        {props.label}
      </button>
    </form>
  );
}

/** The fleet filter shared by the list pages ("all" first). */
export function FleetSelect(props: { fleets: readonly string[]; selected: string | undefined }) {
  return (
    <label>
      Fleet
      <select name="fleet">
        <option value="">all</option>
        {props.fleets.map((x) => (
          <option value={x} selected={x === props.selected}>
            {x}
          </option>
        ))}
      </select>
    </label>
  );
}

/** An error line above a page's content (an API answer the page could not use); nothing when there is none. */
export function ErrorAlert(props: { error: string | null | undefined }) {
  return props.error === undefined || props.error === null ? null : (
    <p class="alert alert-error" role="alert">
      {props.error}
    </p>
  );
}
