// Pin gateway dashboard: live updates and confirmations. Served by the dashboard itself (no CDN), no dependencies.
// Live: listens to /events (server-sent events); on a change it re-fetches the current page and replaces each
// element marked [data-live][id] with its new version, without a reload. Confirm: forms with data-confirm ask first.
(function () {
  'use strict';

  document.addEventListener(
    'submit',
    function (e) {
      var form = e.target;
      if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
        e.preventDefault();
      }
    },
    true,
  );

  // Relative times tick (components/ago.tsx): same wording as the server's ago(), from the server's clock.
  var offset = Number(document.body.dataset.now) - Date.now();
  function agoText(at) {
    var s = Math.max(0, Math.round((Date.now() + (isFinite(offset) ? offset : 0) - at) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }
  function tick() {
    var times = document.querySelectorAll('time[data-at]');
    for (var i = 0; i < times.length; i++) {
      var t = agoText(Number(times[i].getAttribute('data-at')));
      if (times[i].textContent !== t) times[i].textContent = t;
    }
  }
  setInterval(tick, 1000);

  var status = document.getElementById('live-status');
  function setStatus(on, text) {
    if (!status) return;
    status.className = 'live ' + (on ? 'live-on' : 'live-off');
    var t = status.querySelector('.live-text');
    if (t) t.textContent = text;
  }

  if (document.body.dataset.livePage !== 'on' || typeof EventSource === 'undefined') {
    setStatus(false, 'static');
    return;
  }

  var inflight = false;
  var again = false;
  var timer = null;
  var version = 0;
  var stale = false;

  function isEditing(region) {
    var a = document.activeElement;
    return a && region.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
  }

  function schedule() {
    if (timer !== null) return;
    timer = setTimeout(function () {
      timer = null;
      refresh();
    }, 100);
  }

  function refresh() {
    if (inflight) {
      again = true;
      return;
    }
    inflight = true;
    fetch(location.href, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401 || (res.redirected && new URL(res.url).pathname === '/login')) {
          location.reload();
          return null;
        }
        if (!res.ok) {
          // The page can no longer be rebuilt (e.g. the item is gone): say so instead of claiming "live".
          stale = true;
          setStatus(false, 'stale: reload');
          return null;
        }
        if (stale) {
          stale = false;
          setStatus(true, 'live');
        }
        return res.text();
      })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var regions = document.querySelectorAll('[data-live][id]');
        for (var i = 0; i < regions.length; i++) {
          var region = regions[i];
          var next = doc.getElementById(region.id);
          if (!next) continue;
          if (isEditing(region)) {
            region.addEventListener('focusout', schedule, { once: true });
            continue;
          }
          region.replaceWith(document.importNode(next, true));
        }
        tick(); // the clock offset stays the one measured at page load
        version += 1;
        document.body.dataset.liveVersion = String(version);
      })
      .catch(function () {})
      .then(function () {
        inflight = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  var source = new EventSource('/events');
  // "live" only on the server's `ready`: from then on no change can be missed (see dashboard/events.ts).
  source.addEventListener('ready', function () {
    if (!stale) setStatus(true, 'live');
    // A change between the page's rendering and this subscription (or during a reconnect) sent no event to this
    // page: fetch it once now, so "live" never shows a state that already moved on (e.g. a rollout that completed
    // while the page loaded).
    schedule();
  });
  source.addEventListener('error', function () {
    setStatus(false, 'reconnecting');
  });
  source.addEventListener('change', schedule);
  source.addEventListener('logout', function () {
    source.close();
    location.reload();
  });
  window.addEventListener('pagehide', function () {
    source.close();
  });
})();
