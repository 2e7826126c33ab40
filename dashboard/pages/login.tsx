/** Log-in page: paste an API token (operator, viewer, …); it is checked against the gateway API. */
import { BarePage } from './layout';

export function LoginPage(props: { csrf: string; next: string; error?: string }) {
  return (
    <BarePage title="Log in">
      <section class="login-card">
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true">◆</span> Pin gateway
        </div>
        <p class="muted">Operator dashboard: fleet pin coverage, rollouts and the rotation gate.</p>
        {props.error !== undefined ? (
          <p class="alert alert-error" role="alert">
            {props.error}
          </p>
        ) : null}
        <form method="post" action="/login" class="stack">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <input type="hidden" name="next" value={props.next} />
          <label for="token">API token</label>
          <input id="token" name="token" type="password" autocomplete="off" required placeholder="pgw_…" autofocus />
          <button type="submit" class="btn btn-primary">
            Log in
          </button>
        </form>
        <p class="muted small">
          Operators can pause, resume, advance and abort rollouts; viewers see everything read-only.
        </p>
      </section>
    </BarePage>
  );
}
