/** The page frame: header with navigation, identity and log-out, the live-update indicator, and the assets. */
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { roleAtLeast, type Identity } from '../api/api-types';
import { CsrfInput } from '../components/forms';

/** What every page knows about the request. */
export interface View {
  readonly identity: Identity;
  readonly csrf: string;
  readonly now: number;
  /** Operator actions (rollouts) are shown only when the role allows them. */
  readonly canOperate: boolean;
  /** Publishing pin sets (publisher and above). */
  readonly canPublish: boolean;
}

export function viewOf(identity: Identity, csrf: string, now: number): View {
  return { identity, csrf, now, canOperate: roleAtLeast(identity.role, 'operator'), canPublish: roleAtLeast(identity.role, 'publisher') };
}

export type Section = 'overview' | 'rollouts' | 'pinsets' | 'devices' | 'telemetry' | 'audit' | 'lifecycle' | 'security';

const NAV: { id: Section; href: string; label: string }[] = [
  { id: 'overview', href: '/', label: 'Fleet overview' },
  { id: 'rollouts', href: '/rollouts', label: 'Rollouts' },
  { id: 'pinsets', href: '/pinsets', label: 'Pin sets' },
  { id: 'devices', href: '/devices', label: 'Devices' },
  { id: 'telemetry', href: '/telemetry', label: 'Telemetry' },
  { id: 'audit', href: '/audit', label: 'Audit log' },
  { id: 'lifecycle', href: '/lifecycle', label: 'Lifecycle' },
  { id: 'security', href: '/security', label: 'Security' },
];

function Head(props: { title: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${props.title} · Pin gateway`}</title>
      <link rel="stylesheet" href="/assets/dashboard.css" />
      <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      <script src="/assets/live.js" defer></script>
    </head>
  );
}

/** Standards mode. A constant: raw() is never used with any data. */
const DOCTYPE = raw('<!DOCTYPE html>');

export function Layout(props: { title: string; section: Section | null; view: View; children: Child; live?: boolean }) {
  const { identity } = props.view;
  return (
    <>
    {DOCTYPE}
    <html lang="en">
      <Head title={props.title} />
      <body data-live-page={props.live === false ? 'off' : 'on'} data-now={String(props.view.now)}>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="topbar">
          <a class="brand" href="/">
            <span class="brand-mark" aria-hidden="true">◆</span> Pin gateway
          </a>
          <nav class="nav">
            {NAV.map((n) => (
              <a href={n.href} class={n.id === props.section ? 'active' : ''} {...(n.id === props.section ? { 'aria-current': 'page' } : {})}>
                {n.label}
              </a>
            ))}
          </nav>
          <div class="who">
            <span id="live-status" class="live live-off" title="live updates">
              <span class="dot" aria-hidden="true"></span>
              <span class="live-text">connecting</span>
            </span>
            <span class="identity">
              {identity.name !== '' ? `${identity.name} ` : ''}
              <span class={`badge badge-role-${identity.role}`}>{identity.role}</span>
            </span>
            <form method="post" action="/logout" class="inline-form">
              <CsrfInput token={props.view.csrf} />
              <button type="submit" class="btn btn-link">
                Log out
              </button>
            </form>
          </div>
        </header>
        <main class="content" id="main" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
    </>
  );
}

/** A page without the app frame (log-in, errors before log-in). */
export function BarePage(props: { title: string; children: Child }) {
  return (
    <>
      {DOCTYPE}
      <html lang="en">
        <Head title={props.title} />
        <body class="bare" data-live-page="off">
          <main class="bare-main">{props.children}</main>
        </body>
      </html>
    </>
  );
}

export function PageHeader(props: { title: string; subtitle?: Child; actions?: Child }) {
  return (
    <div class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle !== undefined ? <p class="subtitle">{props.subtitle}</p> : null}
      </div>
      {props.actions !== undefined ? <div class="page-actions">{props.actions}</div> : null}
    </div>
  );
}

export function ErrorPanel(props: { title: string; message: string; status: number }) {
  return (
    <section class="panel panel-error">
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      <p class="muted">HTTP {props.status}</p>
      <p>
        <a href="/">Back to the fleet overview</a>
      </p>
    </section>
  );
}
