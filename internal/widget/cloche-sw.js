// Cloche's service worker: browser push (Web Push) for the widget.
//
// A service worker must come from the host's own origin. Place at the root of
// the host's site a file /cloche-sw.js holding this one line (Cloche's origin
// in place of the example's):
//
//   importScripts('https://cloche.example.org/widget/cloche-sw.js');
//
// and let the widget register it with the scope "/" (its default; see the
// data-sw and data-sw-scope attributes of the widget's script tag).
//
// On a push it shows the notification (title, body excerpt); a click opens the
// notification's url (or the scope) and marks it read through Cloche's API, as
// the person whose token the widget last handed to the worker (renewed from
// the widget's token-url with the site's cookies when it has expired).
// Pushes that are not Cloche's are left to the host's own listeners.
(() => {
  'use strict';
  const CACHE = 'cloche-sw';
  const configKey = () => new URL('__cloche-sw-config', self.registration.scope).href;

  async function loadConfig() {
    const r = await (await caches.open(CACHE)).match(configKey());
    return r ? r.json() : null;
  }

  async function saveConfig(c) {
    await (await caches.open(CACHE)).put(configKey(),
      new Response(JSON.stringify(c), { headers: { 'Content-Type': 'application/json' } }));
  }

  // The widget tells the worker where Cloche is and who the person is.
  self.addEventListener('message', (e) => {
    const d = e.data;
    if (!d || d.type !== 'cloche:config' || typeof d.api !== 'string') return;
    e.waitUntil(saveConfig({ api: d.api.replace(/\/+$/, ''), token: String(d.token || ''), tokenUrl: String(d.tokenUrl || '') }));
  });

  self.addEventListener('push', (e) => {
    let p;
    try { p = e.data && e.data.json(); } catch { return; }
    if (!p || typeof p.notification_id !== 'number' || typeof p.title !== 'string') return; // not Cloche's
    const urgent = p.status === 'invalid' || p.status === 'caution';
    e.waitUntil(self.registration.showNotification(p.title, {
      body: p.body || '',
      tag: 'cloche-' + p.notification_id,
      requireInteraction: urgent,
      data: { cloche: true, id: p.notification_id, url: p.url || '' },
    }));
  });

  async function markRead(id) {
    const c = await loadConfig();
    if (!c || !c.api) return false;
    for (let renewed = false; ; renewed = true) {
      const r = await fetch(`${c.api}/api/v1/me/notifications/${id}/read`, {
        method: 'POST', headers: { Authorization: 'Bearer ' + c.token }, credentials: 'omit', cache: 'no-store',
      });
      if (r.ok) return true;
      if (r.status !== 401 || renewed || !c.tokenUrl) return false;
      const t = await fetch(c.tokenUrl, { credentials: 'include', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then((x) => (x.ok ? x.json() : null)).catch(() => null);
      if (!t || typeof t.token !== 'string' || !t.token) return false;
      c.token = t.token;
      await saveConfig(c);
    }
  }

  async function open(url) {
    const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const w = wins.find((x) => x.url === url);
    return w ? w.focus() : self.clients.openWindow(url);
  }

  self.addEventListener('notificationclick', (e) => {
    const d = e.notification.data;
    if (!d || !d.cloche) return;
    e.notification.close();
    const done = Promise.all([
      markRead(d.id).catch(() => false),
      open(d.url || self.registration.scope).catch(() => null),
    ]);
    try { e.waitUntil(done); } catch { /* an event made by a script, not the browser */ }
  });
})();
