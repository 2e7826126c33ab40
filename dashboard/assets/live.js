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
        return res.ok ? res.text() : null;
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
    setStatus(true, 'live');
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
