/**
 * A device id linking to its page. Enrolment admits only a topic- and path-safe alphabet (docs/SECURITY.md,
 * "Identifier alphabets"); the link encodes the id anyway, so no id read from storage can ever change the path.
 */
export function DeviceLink(props: { id: string }) {
  return (
    <a class="mono" href={`/devices/${encodeURIComponent(props.id)}`}>
      {props.id}
    </a>
  );
}
