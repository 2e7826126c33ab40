/**
 * Creating a rollout from the dashboard (issue 15): the pin set, the plan (waves with a count or a percentage and
 * optional bounds; none = the gateway's default plan), the gates, soak, manual approval and the delivery rate.
 * Empty fields are left out (the gateway's defaults apply); what is typed goes to POST /api/rollouts as typed, so
 * a bad value gets the API's own validation message, shown above the form with the input kept.
 */
import type { PinSetSummary } from '../api/api-types';
import { CsrfInput, ErrorAlert } from '../components/forms';
import { Layout, PageHeader, type View } from './layout';

export const WAVE_ROWS = 6;

export type RolloutForm = Readonly<Record<string, string>>;

/** A number when the text is one, else the text itself (the API then says what is wrong with it). */
function numberOr(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** The POST /api/rollouts body for a filled-in form. */
export function rolloutBody(f: RolloutForm): Record<string, unknown> {
  const get = (k: string) => (f[k] ?? '').trim();
  const waves: Record<string, unknown>[] = [];
  for (let i = 0; i < WAVE_ROWS; i++) {
    const value = get(`w${i}.value`);
    if (value === '') continue;
    const kind = get(`w${i}.kind`) === 'count' ? 'count' : 'percent';
    const limit: Record<string, unknown> = kind === 'count' ? { count: numberOr(value) } : { percent: numberOr(value) };
    if (kind === 'percent' && get(`w${i}.min`) !== '') limit['min'] = numberOr(get(`w${i}.min`));
    if (kind === 'percent' && get(`w${i}.max`) !== '') limit['max'] = numberOr(get(`w${i}.max`));
    waves.push({ ...(get(`w${i}.name`) !== '' ? { name: get(`w${i}.name`) } : {}), limit });
  }
  const gates: Record<string, unknown> = {};
  for (const k of ['successPercent', 'errorPercent', 'errorMinFinished', 'telemetryMismatchPercent'] as const) {
    if (get(k) !== '') gates[k] = numberOr(get(k));
  }
  if (get('soakMinutes') !== '') {
    const m = numberOr(get('soakMinutes'));
    gates['soakMs'] = typeof m === 'number' ? Math.round(m * 60_000) : m;
  }
  if (get('manualApproval') === 'on') gates['manualApproval'] = true;
  const rate: Record<string, unknown> = {};
  if (get('perSecond') !== '') rate['perSecond'] = numberOr(get('perSecond'));
  if (get('burst') !== '') rate['burst'] = numberOr(get('burst'));
  return {
    pinsetId: numberOr(get('pinsetId')),
    ...(waves.length > 0 ? { plan: { waves } } : {}),
    ...(Object.keys(gates).length > 0 ? { gates } : {}),
    ...(Object.keys(rate).length > 0 ? { rate } : {}),
  };
}

function Num(props: { f: RolloutForm; name: string; label: string; hint: string; step?: string }) {
  return (
    <label>
      {props.label}
      <input type="text" inputmode="decimal" name={props.name} value={props.f[props.name] ?? ''} placeholder={props.hint} class="input-narrow" />
    </label>
  );
}

export function NewRolloutPage(props: { view: View; pinsets: PinSetSummary[]; f: RolloutForm; error?: string }) {
  const { view, f } = props;
  const selected = f['pinsetId'] ?? '';
  return (
    <Layout title="New rollout" section="rollouts" view={view} live={false}>
      <PageHeader title="New rollout" subtitle="A rollout is created as a draft; start it from its page. Empty fields take the gateway's defaults." />
      <ErrorAlert error={props.error} />
      <form method="post" action="/rollouts/new" class="stack panel new-rollout">
        <CsrfInput token={view.csrf} />
        <label for="pinsetId">Pin set</label>
        <select id="pinsetId" name="pinsetId" required>
          <option value="">choose a pin set…</option>
          {props.pinsets.map((p) => (
            <option value={String(p.id)} selected={String(p.id) === selected}>
              {`${p.fleet} · seq ${p.seq} · ${p.hosts.map((h) => h.name).join(', ')}`}
            </option>
          ))}
        </select>
        <fieldset>
          <legend>Waves (leave empty for the default plan: canary → 10 % → 25 % → 50 % → rest)</legend>
          <div class="table-wrap">
            <table class="table waves-form">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Limit</th>
                  <th scope="col">Value</th>
                  <th scope="col">Min</th>
                  <th scope="col">Max</th>
                </tr>
              </thead>
              <tbody>
                {Array.from({ length: WAVE_ROWS }, (_, i) => (
                  <tr>
                    <td>
                      <input type="text" name={`w${i}.name`} value={f[`w${i}.name`] ?? ''} aria-label={`wave ${i + 1} name`} maxlength={64} />
                    </td>
                    <td>
                      <select name={`w${i}.kind`} aria-label={`wave ${i + 1} limit kind`}>
                        <option value="percent" selected={f[`w${i}.kind`] !== 'count'}>
                          % of the fleet
                        </option>
                        <option value="count" selected={f[`w${i}.kind`] === 'count'}>
                          devices
                        </option>
                      </select>
                    </td>
                    {(['value', 'min', 'max'] as const).map((k) => (
                      <td>
                        <input type="text" inputmode="decimal" class="input-narrow" name={`w${i}.${k}`} value={f[`w${i}.${k}`] ?? ''} aria-label={`wave ${i + 1} ${k}`} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </fieldset>
        <fieldset class="filters">
          <legend>Gates</legend>
          <Num f={f} name="successPercent" label="Success (% verified)" hint="95" />
          <Num f={f} name="soakMinutes" label="Soak (minutes)" hint="10" />
          <Num f={f} name="errorPercent" label="Error gate (% failed)" hint="5" />
          <Num f={f} name="errorMinFinished" label="…once finished ≥" hint="10" />
          <Num f={f} name="telemetryMismatchPercent" label="Telemetry (% mismatch)" hint="off" />
          <label class="check">
            <input type="checkbox" name="manualApproval" checked={f['manualApproval'] === 'on'} /> Manual approval between waves
          </label>
        </fieldset>
        <fieldset class="filters">
          <legend>Delivery rate</legend>
          <Num f={f} name="perSecond" label="Devices per second" hint="50" />
          <Num f={f} name="burst" label="Burst" hint="50" />
        </fieldset>
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Create draft rollout
          </button>
          <a class="btn btn-plain" href="/rollouts">
            Cancel
          </a>
        </div>
      </form>
    </Layout>
  );
}
