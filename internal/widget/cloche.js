// Cloche widget: a user's in-app notifications in a host application's pages.
//
//   <cloche-bell>    the "message" channel: a bell with the unread count, and a
//                    dropdown of the notifications, newest first, with a
//                    settings view of the person's preferences;
//   <cloche-banner>  the "header_message" channel: one banner per unread header
//                    message; closing one marks it read;
//   <cloche-alerts>  the "alert" channel: a modal showing the unread alerts one
//                    at a time; acknowledging one marks it read.
//
// Configuration is in attributes, on each element or once on this script's tag
// as data-token, data-api, data-token-url, data-lang (an element's own win):
//
//   token      a user token (the host mints it: POST /api/v1/users/{id}/token)
//   api        Cloche's origin; default: the origin this script came from
//   token-url  optional: the host's URL answering {"token": "…"}, fetched with
//              the page's cookies when Cloche refuses the token (it expired)
//   lang       fr or en; default: <html lang>, else the browser's language
//   theme      light, dark or auto (the system's); default: the page's color-scheme
//
// and on <cloche-bell> only: toasts (a toast for each new notification) and
// desktop (a desktop notification while the page is out of sight, if the
// person allowed them).
//
// Browser push: the bell's menu offers "Turn on desktop notifications" when the
// server sends pushes and the browser can show them; only that click asks the
// browser's permission. The service worker is the host's /cloche-sw.js (one
// line importing Cloche's /widget/cloche-sw.js, see the README), registered
// with the scope "/"; data-sw and data-sw-scope on the script tag change both.
//
// The elements of a page share one live stream (Server-Sent Events) per API and
// token. A stream the browser cannot resume by itself (the server answered an
// error, e.g. 503 while it restarts) is opened again with its last event id,
// after a growing, jittered delay, so that nothing sent meanwhile is missed.
//
// Bodies keep only the safe HTML subset Cloche's e-mails keep (links, emphasis,
// lists, paragraphs, line breaks): DOMParser parses them without running or
// loading anything, and the allowed nodes are rebuilt one by one. No data is
// ever written into the page as markup.
(() => {
  'use strict';
  if (!window.customElements || customElements.get('cloche-bell')) return;
  const script = document.currentScript || document.querySelector('script[src*="/widget/cloche.js"]');
  const conf = (script && script.dataset) || {};

  // --- Words ---------------------------------------------------------------

  const STRINGS = {
    en: {
      notifications: 'Notifications',
      bell: (n) => (n ? `Notifications, ${n} unread` : 'Notifications, none unread'),
      markRead: 'Mark as read', markUnread: 'Mark as unread', markAllRead: 'Mark all as read',
      postpone: 'Remind me later', more: 'Load more', empty: 'No notifications.',
      failed: 'The notifications could not be loaded.', unread: 'Unread: ',
      announcements: 'Announcements', dismiss: (title) => `Dismiss: ${title}`,
      ack: 'OK, understood', open: 'Open', counter: (i, n) => `Alert ${i} of ${n}`,
      status: { neutral: 'Information', valid: 'Validated', invalid: 'Refused', caution: 'Warning', document: 'Document', calendar: 'Calendar' },
      settings: 'Settings', settingsTitle: 'Notification settings', back: 'Back to the notifications',
      channels: { email: 'E-mail', message: 'Bell', header_message: 'Banner', alert: 'Alert', push: 'Desktop' },
      allOf: (c) => `All: ${c}`, required: 'required', loading: 'Loading…', loadFailed: 'The settings could not be loaded.',
      timeZone: 'Time zone', useZone: (z) => `Use this device’s: ${z}`,
      quiet: 'Quiet hours: no e-mail', quietFrom: 'From', quietTo: 'to', quietDays: 'And all day on',
      digest: 'E-mail', at: 'at', on: 'on',
      freq: { immediate: 'At once', hourly: 'A digest every hour', daily: 'A digest every day', weekly: 'A digest every week' },
      save: 'Save', saving: 'Saving…', saved: 'Saved.', notSaved: 'Not saved:',
      archive: 'Archive', unarchive: 'Back to the inbox', done: 'Done.', actionFailed: (why) => `It did not work: ${why}`,
      bellLoading: 'Notifications, loading', offlineSuffix: ', offline', offline: 'Offline: trying to reconnect…',
      actFailed: 'The server could not be reached. Trying again…', newItem: (t) => `New notification: ${t}`,
      tabs: { all: 'All', unread: 'Unread', archive: 'Archive' }, filters: 'Show', category: 'Category', anyCategory: 'Any category',
      emptyTab: { all: 'No notifications.', unread: 'No unread notifications.', archive: 'No archived notifications.' }, emptyCategory: 'No notifications in this category.',
      pushOn: 'Turn on desktop notifications', pushOff: 'Turn off desktop notifications',
      pushDenied: 'Desktop notifications are blocked in this browser’s settings for this site.',
      pushFailed: 'Desktop notifications could not be turned on.',
    },
    fr: {
      notifications: 'Notifications',
      bell: (n) => (n ? `Notifications, ${n} non lue${n > 1 ? 's' : ''}` : 'Notifications, aucune non lue'),
      markRead: 'Marquer comme lue', markUnread: 'Marquer comme non lue', markAllRead: 'Tout marquer comme lu',
      postpone: 'Reporter', more: 'Voir plus', empty: 'Aucune notification.',
      failed: 'Les notifications n’ont pas pu être chargées.', unread: 'Non lue : ',
      announcements: 'Annonces', dismiss: (title) => `Fermer : ${title}`,
      ack: 'J’ai compris', open: 'Ouvrir', counter: (i, n) => `Alerte ${i} sur ${n}`,
      status: { neutral: 'Information', valid: 'Validé', invalid: 'Refusé', caution: 'Attention', document: 'Document', calendar: 'Agenda' },
      settings: 'Réglages', settingsTitle: 'Réglages des notifications', back: 'Retour aux notifications',
      channels: { email: 'E-mail', message: 'Cloche', header_message: 'Bandeau', alert: 'Alerte', push: 'Bureau' },
      allOf: (c) => `Toutes : ${c}`, required: 'obligatoire', loading: 'Chargement…', loadFailed: 'Les réglages n’ont pas pu être chargés.',
      timeZone: 'Fuseau horaire', useZone: (z) => `Utiliser celui de cet appareil : ${z}`,
      quiet: 'Heures calmes : pas d’e-mail', quietFrom: 'De', quietTo: 'à', quietDays: 'Et toute la journée le',
      digest: 'E-mails', at: 'à', on: 'le',
      freq: { immediate: 'Tout de suite', hourly: 'Un résumé par heure', daily: 'Un résumé par jour', weekly: 'Un résumé par semaine' },
      save: 'Enregistrer', saving: 'Enregistrement…', saved: 'Enregistré.', notSaved: 'Non enregistré :',
      archive: 'Archiver', unarchive: 'Remettre dans la boîte', done: 'C’est fait.', actionFailed: (why) => `Cela n’a pas marché : ${why}`,
      bellLoading: 'Notifications, chargement', offlineSuffix: ', hors ligne', offline: 'Hors ligne : reconnexion…',
      actFailed: 'Le serveur est injoignable. Nouvel essai…', newItem: (t) => `Nouvelle notification : ${t}`,
      tabs: { all: 'Toutes', unread: 'Non lues', archive: 'Archives' }, filters: 'Afficher', category: 'Catégorie', anyCategory: 'Toute catégorie',
      emptyTab: { all: 'Aucune notification.', unread: 'Aucune notification non lue.', archive: 'Aucune notification archivée.' }, emptyCategory: 'Aucune notification dans cette catégorie.',
      pushOn: 'Activer les notifications sur le bureau', pushOff: 'Désactiver les notifications sur le bureau',
      pushDenied: 'Les notifications sont bloquées pour ce site dans les réglages du navigateur.',
      pushFailed: 'Les notifications sur le bureau n’ont pas pu être activées.',
    },
  };

  const CHANNELS = ['email', 'message', 'header_message', 'alert', 'push'];
  const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

  // dayName is a weekday's name in lang (DAYS[i]; 2024-01-01 was a Monday).
  function dayName(i, lang) {
    return new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2024, 0, 1 + i));
  }

  // language is fr or en: the element's lang, the script's, the page's, the browser's.
  function language(el) {
    const l = (el.getAttribute('lang') || conf.lang || document.documentElement.lang || navigator.language || 'en').toLowerCase();
    return l.startsWith('fr') ? 'fr' : 'en';
  }

  const RTF = {};
  const UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];

  // ago says when iso was, relative to now ("5 minutes ago", "il y a 5 minutes").
  function ago(iso, lang) {
    const s = (Date.parse(iso) - Date.now()) / 1000;
    const rtf = (RTF[lang] ||= new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }));
    for (const [unit, size] of UNITS) if (Math.abs(s) >= size) return rtf.format(Math.trunc(s / size), unit);
    return rtf.format(0, 'second');
  }

  // --- Safe HTML -----------------------------------------------------------

  const ALLOWED = new Set(['a', 'p', 'br', 'em', 'i', 'strong', 'b', 'u', 'ul', 'ol', 'li']);
  const DROPPED = new Set(['script', 'style', 'iframe', 'object', 'embed', 'applet', 'noscript', 'noembed', 'noframes',
    'template', 'textarea', 'select', 'svg', 'math', 'head', 'title', 'xmp', 'plaintext', 'frameset', 'canvas', 'audio', 'video']);
  const LINK = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'»]/g;

  // safeURL returns href when it is an absolute http, https or mailto URL, else ''.
  function safeURL(href) {
    try {
      const u = new URL((href || '').trim());
      if (u.protocol === 'mailto:' || ((u.protocol === 'http:' || u.protocol === 'https:') && u.host)) return u.href;
    } catch { /* relative or malformed: not a link */ }
    return '';
  }

  function link(href, title) {
    const a = h('a', { href, rel: 'noopener noreferrer', target: '_blank' });
    if (title) a.title = title;
    return a;
  }

  // safeBody renders a notification body: its safe HTML subset, or plain text
  // with paragraphs, line breaks and web addresses made links.
  function safeBody(body) {
    const out = document.createDocumentFragment();
    if (!body) return out;
    const doc = new DOMParser().parseFromString(body, 'text/html');
    const known = [...doc.querySelectorAll('head *, body *')].some((e) => !(e instanceof HTMLUnknownElement) && !e.localName.includes('-'));
    if (body.includes('<') && known) copySafe(doc.body, out);
    else appendText(out, body);
    return out;
  }

  function copySafe(from, to) {
    for (const n of from.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) to.append(n.data);
      if (n.nodeType !== Node.ELEMENT_NODE || DROPPED.has(n.localName)) continue; // comments; code and chrome
      if (!ALLOWED.has(n.localName)) { copySafe(n, to); continue; } // its text, not its tag
      let el;
      if (n.localName === 'a') {
        const href = safeURL(n.getAttribute('href'));
        if (!href) { copySafe(n, to); continue; }
        el = link(href, n.getAttribute('title'));
      } else {
        el = document.createElement(n.localName);
      }
      copySafe(n, el);
      to.append(el);
    }
  }

  function appendText(to, text) {
    const paras = text.replace(/\r\n/g, '\n').trim().split(/\n\s*\n/);
    for (const para of paras) {
      const p = document.createElement('p');
      para.trim().split('\n').forEach((line, i) => {
        if (i) p.append(document.createElement('br'));
        let last = 0;
        for (const m of line.matchAll(LINK)) {
          const href = safeURL(m[0]);
          if (!href) continue;
          const a = link(href);
          a.textContent = m[0];
          p.append(line.slice(last, m.index), a);
          last = m.index + m[0].length;
        }
        p.append(line.slice(last));
      });
      to.append(p);
    }
  }

  // --- DOM helpers ---------------------------------------------------------

  // h builds an element: h('button', {class: 'x', type: 'button'}, child…).
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== false && v != null) el.setAttribute(k, v === true ? '' : v);
    el.append(...children);
    return el;
  }

  function bellIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M12 2a1.5 1.5 0 0 0-1.5 1.5v.7A6.5 6.5 0 0 0 5.5 10.5V15l-2 2.5V19h17v-1.5l-2-2.5v-4.5a6.5 6.5 0 0 0-5-6.3v-.7A1.5 1.5 0 0 0 12 2Zm-2.5 18a2.5 2.5 0 0 0 5 0Z');
    svg.append(path);
    return svg;
  }

  // mark shows a notification type's status_type as a coloured dot, named
  // for screen readers.
  function mark(status, s) {
    const st = s.status[status] ? status : 'neutral';
    return h('span', { class: 'mark', part: 'mark', 'data-status': st, role: 'img', 'aria-label': s.status[st] });
  }

  // syncChildren makes parent's children the nodes of items, in order, reusing
  // the node of each id (so that focus stays where it was).
  function syncChildren(parent, items, make, update) {
    const ids = new Set(items.map((it) => String(it.id)));
    for (const n of [...parent.children]) if (!ids.has(n.dataset.id)) n.remove();
    const nodes = new Map([...parent.children].map((n) => [n.dataset.id, n]));
    items.forEach((it, i) => {
      const n = nodes.get(String(it.id)) || make(it);
      update(n, it);
      if (parent.children[i] !== n) parent.insertBefore(n, parent.children[i] || null);
    });
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  // deepActive is the focused element, inside shadow roots too.
  function deepActive() {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  function byNewest(a, b) {
    return Date.parse(b.visible_at) - Date.parse(a.visible_at) || b.id - a.id;
  }

  // --- The connection: API calls and the shared stream ----------------------

  const connections = new Map(); // "api token" → Connection

  function connectionFor(el) {
    const src = script && script.src ? new URL(script.src, location.href).origin : location.origin;
    const api = (el.getAttribute('api') || conf.api || src).replace(/\/+$/, '');
    const token = el.getAttribute('token') || conf.token || '';
    let tokenURL = el.getAttribute('token-url') || conf.tokenUrl || '';
    if (tokenURL) tokenURL = new URL(tokenURL, document.baseURI).href;
    if (!token && !tokenURL) return null;
    const key = api + ' ' + (tokenURL || token);
    let c = connections.get(key);
    if (!c) connections.set(key, (c = new Connection(key, api, token, tokenURL)));
    return c;
  }

  class Connection {
    constructor(key, api, token, tokenURL) {
      Object.assign(this, { key, api, token, tokenURL });
      this.elements = new Set();
      this.counts = null; // {alert, header_message, message}
      this.lastId = ''; // the last event's id: where a new stream resumes
      this.es = null;
      this.timer = 0;
      this.failures = 0; // streams refused in a row, for the backoff
      this.loaded = false; // the elements have loaded their lists once
      this.renewing = null;
      this.starting = null; // a renewal before the first stream, when there is no token yet
      this.state = 'connecting';
    }

    attach(el) {
      this.elements.add(el);
      el.setAttribute('connection', this.state);
      if (this.loaded) el.reload();
      if (!this.es && !this.timer && !this.starting) this.open();
    }

    detach(el) {
      this.elements.delete(el);
      if (this.elements.size) return;
      clearTimeout(this.timer);
      this.timer = 0;
      if (this.es) this.es.close();
      this.es = null;
      connections.delete(this.key);
    }

    each(fn) { for (const el of this.elements) fn(el); }

    setState(state) {
      this.state = state;
      this.each((el) => { el.setAttribute('connection', state); el.render(); });
    }

    // lost: the stream was refused or cut, and is not back (shown as offline).
    get lost() { return this.state === 'offline' || (this.state !== 'live' && (this.wasLive || this.failures > 0)); }

    setCounts(counts) {
      this.counts = counts;
      this.each((el) => el.render());
    }

    reloadAll() {
      this.loaded = true;
      this.each((el) => el.reload());
    }

    // request calls the API as the user; a refused token is renewed once.
    async request(method, path, body, keepalive = false) {
      for (let renewed = false; ; renewed = true) {
        const headers = { Authorization: 'Bearer ' + this.token };
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        const r = await fetch(this.api + '/api/v1/me' + path, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store', keepalive,
        });
        if (r.status === 401 && !renewed && (await this.renew())) continue;
        if (!r.ok) {
          let detail = null; // {code, field, message, details}
          try { detail = (await r.json()).error || null; } catch { /* not JSON */ }
          throw Object.assign(new Error(`${method} ${path}: HTTP ${r.status}`), { status: r.status, detail });
        }
        return r.status === 204 ? null : r.json();
      }
    }

    // renew asks the host's token-url for a new token; concurrent callers
    // share one request.
    renew() {
      if (!this.tokenURL) return Promise.resolve(false);
      this.renewing ||= fetch(this.tokenURL, { credentials: 'include', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then((r) => (r.ok ? r.json() : null))
        .then((j) => {
          if (!j || typeof j.token !== 'string' || !j.token) return false;
          this.token = j.token;
          return true;
        })
        .catch(() => false)
        .finally(() => setTimeout(() => { this.renewing = null; }, 1000));
      return this.renewing;
    }

    async refreshCounts() {
      try {
        this.setCounts((await this.request('GET', '/counts')).unread);
      } catch (err) {
        console.warn('cloche:', err.message);
      }
    }

    open() {
      this.timer = 0;
      if (!this.elements.size) return;
      if (!this.token) {
        this.starting = this.renew().then((ok) => {
          this.starting = null;
          if (ok) this.open();
          else this.setState('offline');
        });
        return;
      }
      const q = new URLSearchParams({ access_token: this.token });
      if (this.lastId) q.set('last_event_id', this.lastId);
      let fresh = !this.lastId; // its first counts come before any event: load the lists then
      const es = (this.es = new EventSource(this.api + '/api/v1/me/stream?' + q));
      es.onopen = () => {
        this.failures = 0;
        this.wasLive = true;
        this.setState('live');
        this.each((el) => el.retryNow());
      };
      es.onerror = () => {
        if (es.readyState === EventSource.CLOSED) this.retry(es);
        else this.setState('connecting'); // the browser reconnects, with Last-Event-ID
      };
      const on = (name, fn) => es.addEventListener(name, (e) => {
        if (e.lastEventId) this.lastId = e.lastEventId;
        let data;
        try { data = JSON.parse(e.data); } catch { return; }
        fn(data);
      });
      on('notification', (it) => this.each((el) => el.upsert(it)));
      on('change', (c) => this.each((el) => el.apply(c)));
      on('counts', (c) => {
        this.setCounts(c);
        if (fresh) {
          fresh = false;
          this.reloadAll();
        }
      });
      on('reset', () => { fresh = true; }); // fresh counts follow
    }

    // retry opens the stream again after an error the browser does not
    // retry by itself: with a new token after a 401, else after a delay that
    // doubles up to 30 s, ±50 %.
    async retry(es) {
      if (es !== this.es) return;
      es.close();
      this.es = null;
      this.failures++;
      this.setState('connecting');
      if (!this.loaded) this.reloadAll(); // the lists, even without live updates
      const wait = Math.min(30000, 500 * 2 ** this.failures) * (0.5 + Math.random());
      // Why? The counts tell, and renew a refused token on the way.
      try {
        this.setCounts((await this.request('GET', '/counts')).unread);
      } catch (err) {
        if (err.status === 401) return this.setState('offline'); // refused, and no new token
      }
      if (this.elements.size && !this.es && !this.timer) this.timer = setTimeout(() => this.open(), wait);
    }
  }

  // --- The elements --------------------------------------------------------

  let sheet = null;
  function adoptStyles(root) {
    if ('adoptedStyleSheets' in Document.prototype) {
      if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(h('style', {}, CSS));
    }
  }

  // ClocheElement keeps the notifications of one channel (all of them, or
  // only the unread ones) in step with the API and the stream.
  class ClocheElement extends HTMLElement {
    static observedAttributes = ['token', 'api', 'token-url', 'lang'];

    constructor(channel, unreadOnly, pageSize) {
      super();
      Object.assign(this, { channel, unreadOnly, pageSize });
      this.items = []; // newest first, as the API lists them
      this.next = ''; // cursor of the next page
      this.allPages = false; // reload reads every page, not the first
      this.archived = false; // the archive is shown instead of the inbox (showArchive)
      this.failed = false;
      this.seq = 0; // of loads: only the last one counts
      this.pending = null; // stream events received during a load, to apply after it
      this.loaded = false; // the first load has answered (or failed)
      this.retries = new Map(); // "id action" → failed attempts of an action being retried
      this.timers = new Set();
      this.root = this.attachShadow({ mode: 'open' });
      adoptStyles(this.root);
    }

    connectedCallback() {
      if (!this.built) {
        this.build();
        this.built = true;
      }
      this.conn = connectionFor(this);
      if (!this.conn) {
        console.warn(`<${this.localName}>: give it a token or a token-url attribute`);
        return;
      }
      this.conn.attach(this);
      this.render();
    }

    disconnectedCallback() {
      if (this.conn) this.conn.detach(this);
      this.conn = null;
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
    }

    attributeChangedCallback(name, old, value) {
      if (old === value || !this.built || !this.isConnected) return;
      if (name === 'lang') return this.render();
      this.disconnectedCallback();
      this.connectedCallback();
    }

    get strings() { return STRINGS[language(this)]; }

    query(extra) {
      // The first page is short (it comes first); the next ones longer.
      const limit = extra && extra.cursor ? Math.max(this.pageSize, 50) : this.pageSize;
      const q = new URLSearchParams({ channel: this.channel, limit: String(limit), ...extra });
      if (this.archived) q.set('archived', 'true');
      else if (this.unreadOnly) q.set('unread', 'true');
      return '/notifications?' + q;
    }

    async reload() {
      const seq = ++this.seq;
      const conn = this.conn;
      this.pending = this.pending || [];
      let page = null;
      try {
        page = await conn.request('GET', this.query());
        // Banners show every unread one: read the other pages too.
        while (this.allPages && page.next && seq === this.seq && conn === this.conn) {
          const rest = await conn.request('GET', this.query({ cursor: page.next }));
          const have = new Set(page.items.map((x) => x.id));
          page = { items: page.items.concat(rest.items.filter((x) => !have.has(x.id))), next: rest.next };
        }
      } catch (err) {
        console.warn('cloche:', err.message);
      }
      if (seq !== this.seq || conn !== this.conn) return;
      const replay = this.pending;
      this.pending = null;
      this.loaded = true;
      this.failed = !page;
      if (page) {
        this.items = page.items;
        this.next = page.next || '';
        for (const [fn, arg] of replay) this[fn](arg, true);
      }
      this.render();
      // A reload may replace pages loaded meanwhile while the list's end
      // stays in sight, where the observer will not fire again.
      if (this.checkMore) this.checkMore();
    }

    async more() {
      try {
        const page = await this.conn.request('GET', this.query({ cursor: this.next }));
        const have = new Set(this.items.map((x) => x.id));
        this.items.push(...page.items.filter((x) => !have.has(x.id)));
        this.next = page.next || '';
        return true;
      } catch (err) {
        console.warn('cloche:', err.message);
        return false;
      } finally {
        this.render();
      }
    }

    // upsert takes a notification from the stream.
    upsert(it, replaying) {
      if (this.pending && !replaying) this.pending.push(['upsert', it]);
      if (it.channel !== this.channel) return;
      this.items = this.items.filter((x) => x.id !== it.id);
      if (!(this.unreadOnly && it.read_at) && !!it.archived_at === this.archived) this.items.push(it);
      this.items.sort(byNewest);
      this.render();
    }

    // apply takes a change (from the stream, or made here).
    apply(c, replaying) {
      if (this.pending && !replaying) this.pending.push(['apply', c]);
      if (c.channel && c.channel !== this.channel) return;
      const it = this.items.find((x) => x.id === c.notification_id);
      switch (c.kind) {
        case 'read':
          if (it) it.read_at = c.at;
          break;
        case 'unread':
          if (it) it.read_at = null;
          else if (this.unreadOnly && !replaying) this.reload(); // one to show again
          break;
        case 'read_all':
          for (const x of this.items) if (!x.read_at && Date.parse(x.visible_at) <= Date.parse(c.at)) x.read_at = c.at;
          break;
        case 'postponed':
          this.items = this.items.filter((x) => x.id !== c.notification_id);
          this.reloadAt(Date.parse(c.at));
          break;
        case 'archived':
        case 'unarchived':
          // It leaves the list it was in, and joins the other one.
          if ((c.kind === 'archived') === this.archived) { if (!it && !replaying) this.reload(); } else this.items = this.items.filter((x) => x.id !== c.notification_id);
          break;
      }
      if (this.unreadOnly && !this.archived) this.items = this.items.filter((x) => !x.read_at);
      this.render();
    }

    // later runs fn after wait ms, unless the element leaves the page.
    later(fn, wait) {
      if (!(wait > 0 && wait < 2 ** 31)) return;
      const t = setTimeout(() => { this.timers.delete(t); fn(); }, wait);
      this.timers.add(t);
    }

    // showArchive lists the archive (on) or the inbox, from the server.
    showArchive(on) {
      this.archived = !!on;
      this.items = [];
      this.next = '';
      this.loaded = false; // the skeleton, until the server answers
      this.render();
      return this.reload();
    }

    // openItem follows notification it's link, href (its url, or one of its
    // actions'), marking it read on the way: the read is sent so that it
    // survives the page's unloading.
    openItem(it, href) {
      if (!it.read_at) {
        this.conn?.request('POST', `/notifications/${it.id}/read`, undefined, true).catch((err) => console.warn('cloche:', err.message));
        this.apply({ kind: 'read', notification_id: it.id, channel: this.channel, at: new Date().toISOString() });
      }
      if (href) location.assign(href);
    }

    // follow: a click on a notification's own link (its title's, or an
    // action's; a body's links are left as they are) marks it read and
    // follows it; it says whether it was one.
    follow(e, it) {
      const a = e.target.closest('a.open, a.action');
      if (!a || e.button || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      this.openItem(it, a.href);
      return true;
    }

    // runAction has Cloche call the host for action n of notification id
    // (a done one is read), and returns what the host answered ({ok,
    // message, reason}).
    async runAction(id, n) {
      try {
        const res = await this.conn.request('POST', `/notifications/${id}/actions/${n}`);
        const it = this.items.find((x) => x.id === id);
        if (res.ok && it && !it.read_at) await this.act(id, 'read');
        return res;
      } catch (err) {
        console.warn('cloche:', err.message);
        return { ok: false, reason: (err.detail && err.detail.message) || err.message };
      }
    }

    // run runs action n of notification id, and says what came of it in
    // node's note while node shows that notification.
    async run(node, id, n) {
      const res = await this.runAction(id, n), s = this.strings, note = node.parts.note;
      if (node.dataset.id === String(id)) {
        note.textContent = res.ok ? res.message || s.done : s.actionFailed(res.message || res.reason || '');
        note.hidden = false;
      }
      return res;
    }

    // reloadAt reloads when a postponed notification shows again.
    reloadAt(at) {
      this.later(() => { this.reload(); this.conn?.refreshCounts(); }, at - Date.now() + 1000);
    }

    // act marks notification id read, unread, postponed, archived or back
    // in the inbox, and reports whether it could. When the server cannot be
    // reached (or fails), the failure is shown and the action tried again:
    // after 1, 2, 4… up to 30 s, and as soon as the stream is back.
    async act(id, action) {
      const conn = this.conn;
      const key = id + ' ' + action;
      try {
        const res = await conn.request('POST', `/notifications/${id}/${action}`);
        const at = (res && res.visible_at) || new Date().toISOString();
        this.retries.delete(key);
        this.apply({ kind: action === 'postpone' ? 'postponed' : action === 'archive' ? 'archived' : action === 'unarchive' ? 'unarchived' : action, notification_id: id, channel: this.channel, at });
        if (conn.state !== 'live') conn.refreshCounts();
        return true;
      } catch (err) {
        this.retryLater(key, err, () => this.act(id, action));
        return false;
      }
    }

    // retryLater shows that the action key failed, and tries it again.
    retryLater(key, err, again) {
      console.warn('cloche:', err.message);
      if (err.status && err.status < 500 && err.status !== 429) this.retries.delete(key); // refused: trying again changes nothing
      else {
        const n = (this.retries.get(key) || 0) + 1;
        this.retries.set(key, n);
        this.later(() => this.retries.get(key) === n && again(), Math.min(30000, 1000 * 2 ** (n - 1)));
      }
      this.render();
    }

    retryNow() {
      for (const key of [...this.retries.keys()]) {
        const [id, action] = key.split(' ');
        if (action === 'read-all') this.readAll();
        else this.act(Number(id), action);
      }
    }

    // renderNotice shows an action being retried, or (the bell) the
    // connection lost.
    renderNotice(offline) {
      const s = this.strings;
      const text = this.retries.size ? s.actFailed : offline && this.conn && this.conn.lost ? s.offline : '';
      if (this.notice.textContent !== text) this.notice.textContent = text;
      this.notice.hidden = !text;
    }

    // setLang sets the language of the element's words on its shadow's top.
    setLang(top) {
      const l = language(this);
      if (top.lang !== l) top.lang = l;
    }
  }

  // Settings is the bell's settings view: the person's preferences
  // (GET/PUT /api/v1/me/preferences), a switch per channel for each
  // category and each of its types, and the person-level fields the server
  // answers with (time zone, quiet hours, digest): a field it does not
  // carry is not shown, nor sent.
  class Settings {
    constructor(bell) {
      this.bell = bell;
      this.doc = null; // the last document the server answered
      this.own = new Map(); // "t type ch" or "c category ch" → on
      this.heading = h('h2', { id: 'settings-heading', tabindex: '-1' });
      this.backButton = h('button', { class: 'link back', type: 'button', 'data-action': 'back' });
      this.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
      this.error = h('div', { class: 'error', id: 'settings-error', role: 'alert' });
      this.form = h('form', { class: 'prefs', novalidate: true });
      this.saveButton = h('button', { class: 'save', type: 'submit' });
      this.view = h('div', { class: 'settings', hidden: true },
        h('div', { class: 'head' }, this.heading, this.backButton), this.form);
      this.form.addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
      this.form.addEventListener('change', (e) => this.changed(e.target));
      this.form.addEventListener('click', (e) => {
        const b = e.target.closest('button[data-action=use-zone]');
        if (!b) return;
        this.zoneInput.value = b.dataset.zone; // proposed; saved when the person saves
        this.renderZone();
      });
    }

    get open() { return !this.view.hidden; }

    // show opens the view and (re)loads the preferences.
    async show() {
      const s = this.bell.strings;
      this.view.hidden = false;
      this.render();
      this.form.replaceChildren(h('p', { class: 'empty' }, s.loading));
      this.heading.focus();
      try {
        this.load(await this.bell.conn.request('GET', '/preferences'));
      } catch (err) {
        console.warn('cloche:', err.message);
        this.form.replaceChildren(h('p', { class: 'empty', role: 'alert' }, s.loadFailed));
      }
    }

    hide() { this.view.hidden = true; }

    // load takes the server's document; rebuild: the controls too (a
    // save keeps them, and the focus).
    load(doc, rebuild = true) {
      this.doc = doc;
      this.own = new Map();
      for (const p of doc.settings || []) {
        this.own.set(p.type ? `t ${p.type} ${p.channel}` : `c ${p.category} ${p.channel}`, !!p.enabled);
      }
      if (rebuild) this.build();
      else this.update();
    }

    // typeOn: the type's own setting, else its category's, else what the
    // server worked out (the organisation's defaults, the default channel).
    typeOn(t, ch) {
      if (t.mandatory && ch === t.default_channel) return true;
      const own = this.own.get(`t ${t.type} ${ch}`) ?? this.own.get(`c ${t.category} ${ch}`);
      return own ?? t.channels.includes(ch);
    }

    categories() {
      const out = new Map();
      for (const t of this.doc.effective) {
        if (!out.has(t.category)) out.set(t.category, []);
        out.get(t.category).push(t);
      }
      return out;
    }

    build() {
      const s = this.bell.strings;
      const lang = language(this.bell);
      const doc = this.doc;
      const parts = [this.error, this.status];
      const row = (id, name, extra, boxes) => h('div', { class: 'row', role: 'group', 'aria-labelledby': id },
        h('span', { class: 'name', id }, name, ...extra), h('div', { class: 'switches' }, ...boxes));
      const box = (attrs, ch, rowName) => h('label', { class: 'switch' }, h('input', { type: 'checkbox', ...attrs }),
        s.channels[ch], h('span', { class: 'sr' }, ' — ' + rowName));
      let n = 0;
      for (const [cat, types] of this.categories()) {
        const rows = [];
        const all = s.allOf(cat);
        rows.push(row(`r${n++}`, all, [], CHANNELS.map((ch) => box({ 'data-category': cat, 'data-channel': ch }, ch, all))));
        for (const t of types) {
          const name = t.label || t.type;
          const extra = [' ', h('code', {}, t.type)];
          if (t.mandatory) extra.push(' ', h('span', { class: 'req' }, `(${s.required})`));
          rows.push(row(`r${n++}`, name, extra, CHANNELS.map((ch) => box({ 'data-type': t.type, 'data-channel': ch }, ch, name))));
        }
        parts.push(h('fieldset', { class: 'cat' }, h('legend', {}, cat), ...rows));
      }
      if ('time_zone' in doc) {
        this.zoneInput = h('input', { type: 'text', id: 'time-zone', 'data-field': 'time_zone', list: 'zones', autocomplete: 'off', spellcheck: 'false' });
        this.zoneInput.value = doc.time_zone || '';
        this.zoneInput.addEventListener('input', () => this.renderZone());
        const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
        this.zoneHint = h('div', { class: 'hint' });
        parts.push(h('div', { class: 'field' }, h('label', { for: 'time-zone' }, s.timeZone), this.zoneInput,
          h('datalist', { id: 'zones' }, ...zones.map((z) => h('option', { value: z }))), this.zoneHint));
      }
      if ('quiet_hours' in doc) {
        const q = doc.quiet_hours;
        this.quietOn = h('input', { type: 'checkbox', id: 'quiet-on' });
        this.quietOn.checked = !!q;
        this.quietStart = h('input', { type: 'time', id: 'quiet-start', 'data-field': 'quiet_hours.start', value: (q && q.start) || '21:00' });
        this.quietEnd = h('input', { type: 'time', id: 'quiet-end', 'data-field': 'quiet_hours.end', value: (q && q.end) || '08:00' });
        this.quietDays = DAYS.map((d) => h('input', { type: 'checkbox', value: d, checked: !!(q && q.days && q.days.includes(d)) }));
        parts.push(h('fieldset', { class: 'quiet' },
          h('legend', {}, h('label', {}, this.quietOn, ' ', s.quiet)),
          h('div', { class: 'line' }, h('label', { for: 'quiet-start' }, s.quietFrom), this.quietStart, h('label', { for: 'quiet-end' }, s.quietTo), this.quietEnd),
          h('fieldset', { class: 'days', 'data-field': 'quiet_hours.days' }, h('legend', {}, s.quietDays),
            h('div', { class: 'switches' }, ...this.quietDays.map((c, i) => h('label', { class: 'switch' }, c, dayName(i, lang)))))));
      }
      if ('digest' in doc) {
        const d = doc.digest || { frequency: 'immediate' };
        this.freq = h('select', { id: 'digest-frequency', 'data-field': 'digest.frequency' },
          ...['immediate', 'hourly', 'daily', 'weekly'].map((f) => h('option', { value: f }, s.freq[f])));
        this.freq.value = d.frequency || 'immediate';
        this.digestAt = h('input', { type: 'time', id: 'digest-at', 'data-field': 'digest.at', value: d.at || '08:00' });
        this.digestDay = h('select', { id: 'digest-day', 'data-field': 'digest.day' }, ...DAYS.map((x, i) => h('option', { value: x }, dayName(i, lang))));
        this.digestDay.value = d.day || 'monday';
        this.digestAtWrap = h('span', { class: 'line' }, h('label', { for: 'digest-at' }, s.at), this.digestAt);
        this.digestDayWrap = h('span', { class: 'line' }, h('label', { for: 'digest-day' }, s.on), this.digestDay);
        parts.push(h('div', { class: 'field digest' }, h('label', { for: 'digest-frequency' }, s.digest), this.freq, this.digestDayWrap, this.digestAtWrap));
      }
      this.saveButton.textContent = s.save;
      parts.push(h('div', { class: 'buttons' }, this.saveButton));
      this.form.replaceChildren(...parts);
      this.update();
    }

    // update sets every switch from the model.
    update() {
      const byType = new Map(this.doc.effective.map((t) => [t.type, t]));
      for (const c of this.form.querySelectorAll('input[data-type]')) {
        const t = byType.get(c.dataset.type);
        c.checked = this.typeOn(t, c.dataset.channel);
        c.disabled = t.mandatory && c.dataset.channel === t.default_channel;
      }
      const cats = this.categories();
      for (const c of this.form.querySelectorAll('input[data-category]')) {
        const on = cats.get(c.dataset.category).filter((t) => this.typeOn(t, c.dataset.channel)).length;
        c.checked = on === cats.get(c.dataset.category).length;
        c.indeterminate = on > 0 && !c.checked;
      }
      if (this.zoneInput) this.renderZone();
      if (this.quietOn) for (const x of [this.quietStart, this.quietEnd, ...this.quietDays]) x.disabled = !this.quietOn.checked;
      if (this.freq) {
        this.digestAtWrap.hidden = !['daily', 'weekly'].includes(this.freq.value);
        this.digestDayWrap.hidden = this.freq.value !== 'weekly';
      }
    }

    // renderZone proposes the browser's time zone when it is not the one set.
    renderZone() {
      const s = this.bell.strings;
      let zone = '';
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { /* none */ }
      const b = zone && zone !== this.zoneInput.value.trim() ? h('button', { type: 'button', class: 'link', 'data-action': 'use-zone', 'data-zone': zone }, s.useZone(zone)) : '';
      const had = this.zoneHint.contains(deepActive());
      this.zoneHint.replaceChildren(b);
      if (had) this.zoneInput.focus();
    }

    changed(el) {
      const ch = el.dataset.channel;
      this.status.textContent = '';
      if (el.dataset.type) {
        this.own.set(`t ${el.dataset.type} ${ch}`, el.checked);
      } else if (el.dataset.category) {
        const cat = el.dataset.category;
        this.own.set(`c ${cat} ${ch}`, el.checked);
        for (const t of this.categories().get(cat)) this.own.delete(`t ${t.type} ${ch}`); // the category's switch decides
      }
      this.update();
    }

    // body is the document to PUT: the switches, and each person-level
    // field the server answered with (those shown here from their
    // controls, the others as they were).
    body() {
      const settings = [];
      for (const [id, enabled] of this.own) {
        const [kind, scope, channel] = id.split(' ');
        settings.push({ [kind === 't' ? 'type' : 'category']: scope, channel, enabled });
      }
      const out = { settings };
      for (const k of ['time_zone', 'quiet_hours', 'email_if_unread_minutes', 'digest', 'category_digests']) if (k in this.doc) out[k] = this.doc[k];
      if (this.zoneInput) out.time_zone = this.zoneInput.value.trim();
      if (this.quietOn) {
        out.quiet_hours = this.quietOn.checked
          ? { start: this.quietStart.value, end: this.quietEnd.value, days: this.quietDays.filter((c) => c.checked).map((c) => c.value) }
          : null;
      }
      if (this.freq) {
        const was = this.doc.digest || {};
        const f = this.freq.value;
        out.digest = { ...was, frequency: f };
        if (f === 'daily' || f === 'weekly') out.digest.at = this.digestAt.value;
        if (f === 'weekly') out.digest.day = this.digestDay.value;
      }
      return out;
    }

    async save() {
      const s = this.bell.strings;
      if (!this.doc || this.saving) return;
      this.saving = true; // the button stays enabled: disabling it would drop the focus
      this.form.setAttribute('aria-busy', 'true');
      this.status.textContent = s.saving;
      this.showErrors(null);
      try {
        const doc = await this.bell.conn.request('PUT', '/preferences', this.body());
        const same = doc.effective.map((t) => t.type).join() === this.doc.effective.map((t) => t.type).join();
        this.load(doc, !same);
        this.status.textContent = s.saved;
      } catch (err) {
        console.warn('cloche:', err.message);
        this.status.textContent = '';
        this.showErrors(err.detail || { message: err.message });
      }
      this.saving = false;
      this.form.removeAttribute('aria-busy');
    }

    // showErrors lists the server's field messages, and marks the fields
    // shown here (aria-invalid, described by the list).
    showErrors(detail) {
      for (const el of this.form.querySelectorAll('[aria-invalid]')) {
        el.removeAttribute('aria-invalid');
        el.removeAttribute('aria-describedby');
      }
      if (!detail) return this.error.replaceChildren();
      const s = this.bell.strings;
      const problems = detail.details && detail.details.length ? detail.details : [detail];
      this.error.replaceChildren(h('p', {}, s.notSaved), h('ul', {}, ...problems.map((p) => h('li', {}, p.field ? `${p.field}: ${p.message}` : p.message))));
      let first = null;
      for (const p of problems) {
        const el = p.field && [...this.form.querySelectorAll('[data-field]')].find((x) => x.dataset.field === p.field);
        if (!el) continue;
        el.setAttribute('aria-invalid', 'true');
        el.setAttribute('aria-describedby', 'settings-error');
        first ||= el;
      }
      if (first && first.focus) first.focus();
    }

    render() {
      const s = this.bell.strings;
      this.heading.textContent = s.settingsTitle;
      this.backButton.textContent = s.back;
      const lang = language(this.bell);
      if (this.doc && this.open && this.lang && this.lang !== lang) this.build(); // its words
      this.lang = lang;
    }
  }

  // TABS are the bell's filters of its list, a predicate each. The
  // archive's items are the server's (archived=true): its tab lists them all.
  const TABS = { all: () => true, unread: (it) => !it.read_at, archive: () => true };

  // category is a notification's category: its type's first segment.
  const category = (it) => String(it.key || '').split(':')[0];

  // makeItem builds a notification's node in the bell's list; fillItem
  // (re)fills it, and touches nothing when what it shows has not changed,
  // so that a live update redraws its own item only. A new field of a
  // notification goes in both.
  function makeItem() {
    const li = h('li', { class: 'item', part: 'item' });
    const p = (li.parts = Object.assign(parts(), {
      time: h('time'), toggle: h('button', { type: 'button', 'data-action': 'toggle' }),
      later: h('button', { type: 'button', 'data-action': 'postpone' }), archive: h('button', { type: 'button', 'data-action': 'archive' }),
    }));
    li.append(p.mark, h('div', { class: 'main' }, p.title, p.body, p.links, p.note, h('div', { class: 'meta' }, p.time, p.toggle, p.later, p.archive)));
    return li;
  }

  // parts are the nodes refill fills, and a note saying what came of an action.
  const parts = () => ({ mark: h('span'), title: h('p', { class: 'title' }), body: h('div', { class: 'body' }), links: h('div', { class: 'links' }), note: h('p', { class: 'note', role: 'status', hidden: true }) });

  // refill (re)fills what the bell's items, the banners and the alert have in
  // common (parts mark, title, body and links) when what they show of
  // notification it has changed, and says whether it had. The title links to
  // the notification's url, unless open names a link of its own (the
  // alert's); its actions are links (url) or buttons (callback: run).
  function refill(el, it, s, extra, open) {
    const p = el.parts;
    const key = JSON.stringify([it, extra]);
    if (el.key === key) return false;
    el.key = key;
    el.dataset.id = it.id;
    el.dataset.status = it.status_type;
    const href = safeURL(it.url);
    const links = (it.actions || []).map((a, i) => {
      const to = safeURL(a.url);
      return to ? h('a', { class: 'action', href: to }, a.label) : a.callback ? h('button', { type: 'button', class: 'action', 'data-action': 'run', 'data-n': i }, a.label) : '';
    });
    if (href && open) links.unshift(h('a', { class: 'action', href }, open));
    p.mark.replaceWith((p.mark = mark(it.status_type, s)));
    p.title.replaceChildren(href && !open ? h('a', { class: 'open', href }, it.title) : it.title);
    p.links.replaceChildren(...links);
    p.links.hidden = !links.length;
    if (p.shownBody !== it.body) p.body.replaceChildren(safeBody((p.shownBody = it.body)));
    return true;
  }

  // A bell's item has a time, and buttons to mark it read or unread, to
  // postpone and archive it; archived, a button back to the inbox.
  function fillItem(li, it, s, lang, times, archived) {
    const p = li.parts;
    if (refill(li, it, s, [lang, archived])) {
      times = true;
      li.classList.toggle('unread', !it.read_at);
      li.classList.toggle('linked', !!safeURL(it.url));
      if (!it.read_at) p.title.prepend(h('span', { class: 'sr' }, s.unread));
      p.time.dateTime = it.visible_at;
      p.time.title = new Date(it.visible_at).toLocaleString(lang);
      p.toggle.textContent = it.read_at ? s.markUnread : s.markRead;
      p.later.textContent = s.postpone;
      p.later.hidden = archived;
      p.archive.dataset.action = it.archived_at || archived ? 'unarchive' : 'archive';
      p.archive.textContent = p.archive.dataset.action === 'archive' ? s.archive : s.unarchive;
    }
    if (times) setText(p.time, ago(it.visible_at, lang)); // relative times are refreshed when the menu opens
  }

  // --- Browser push -----------------------------------------------------------

  // Push is the bell's "desktop notifications" switch: the browser's
  // subscription (under the host's service worker) registered with Cloche for
  // the person. state: hidden (unsupported, or the server sends no pushes),
  // off, on, denied (the browser blocks them), busy.
  class Push {
    constructor(bell) {
      this.bell = bell;
      this.state = 'hidden';
      this.failed = false;
      this.key = null; // {public_key, enabled}, once fetched
    }

    static supported() {
      return window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
    }

    get worker() { return conf.sw || '/cloche-sw.js'; }
    get scope() { return conf.swScope || '/'; }

    registration() { return navigator.serviceWorker.getRegistration(new URL(this.scope, location.href).href); }

    // tellWorker hands the worker what it needs to mark a clicked
    // notification read: the API, the token and the token-url.
    tellWorker(reg) {
      const conn = this.bell.conn;
      const w = reg && (reg.active || reg.waiting || reg.installing);
      if (w && conn) w.postMessage({ type: 'cloche:config', api: conn.api, token: conn.token, tokenUrl: conn.tokenURL || '' });
    }

    // refresh reads the state without asking the person anything.
    async refresh() {
      if (!Push.supported() || !this.bell.conn) return this.set('hidden');
      try {
        if (!this.key) {
          const r = await fetch(this.bell.conn.api + '/api/v1/push/public-key', { credentials: 'omit', cache: 'no-store' });
          this.key = r.ok ? await r.json() : { enabled: false };
        }
        if (!this.key.enabled) return this.set('hidden');
        if (Notification.permission === 'denied') return this.set('denied');
        const reg = await this.registration();
        const sub = reg && Notification.permission === 'granted' ? await reg.pushManager.getSubscription() : null;
        this.tellWorker(reg);
        this.set(sub ? 'on' : 'off');
      } catch (err) {
        console.warn('cloche:', err.message);
        this.set('hidden');
      }
    }

    async toggle() {
      const was = this.state;
      this.failed = false;
      this.set('busy');
      try {
        if (was === 'on') await this.off(); else await this.on();
      } catch (err) {
        console.warn('cloche: desktop notifications:', err.message);
        this.failed = was !== 'on';
        await this.refresh();
      }
    }

    async on() {
      const perm = await Notification.requestPermission();
      if (perm !== 'granted') return this.set(perm === 'denied' ? 'denied' : 'off');
      const reg = await navigator.serviceWorker.register(this.worker, { scope: this.scope });
      await activated(reg);
      this.tellWorker(reg);
      const key = fromBase64URL(this.key.public_key);
      let sub = await reg.pushManager.getSubscription();
      const old = sub && sub.options && sub.options.applicationServerKey;
      if (sub && old && !sameBytes(new Uint8Array(old), key)) {
        await sub.unsubscribe(); // made with another server's key
        sub = null;
      }
      if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      await this.bell.conn.request('POST', '/push-subscriptions', sub.toJSON());
      this.set('on');
    }

    async off() {
      const reg = await this.registration();
      const sub = reg && (await reg.pushManager.getSubscription());
      if (sub) {
        try {
          await this.bell.conn.request('DELETE', '/push-subscriptions', { endpoint: sub.endpoint });
        } catch (err) {
          if (err.status !== 404) throw err;
        }
        await sub.unsubscribe();
      }
      this.set('off');
    }

    set(state) {
      this.state = state;
      this.bell.renderPush();
    }
  }

  // activated resolves once the registration's worker is active.
  function activated(reg) {
    const w = reg.installing || reg.waiting || reg.active;
    if (!w || w.state === 'activated') return Promise.resolve();
    return new Promise((resolve) => {
      w.addEventListener('statechange', () => { if (w.state === 'activated') resolve(); });
    });
  }

  function fromBase64URL(s) {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  }

  function sameBytes(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }

  // <cloche-bell>: the message channel.
  class ClocheBell extends ClocheElement {
    constructor() {
      super('message', false, 20);
      this.tab = 'all';
      this.category = ''; // '': every one
      this.busy = new WeakSet(); // buttons whose action is under way (not disabled: that drops the focus)
    }

    build() {
      const button = (cls, action, attrs) => h('button', { class: cls, type: 'button', 'data-action': action, ...attrs });
      this.badge = h('span', { class: 'badge', part: 'badge', 'aria-hidden': 'true', hidden: true });
      this.button = h('button', { class: 'bell', part: 'button', type: 'button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': 'panel' }, bellIcon(), this.badge);
      this.heading = h('h2', { id: 'heading' });
      this.allButton = button('link', 'read-all');
      this.settingsButton = button('link', 'settings');
      this.tabButtons = Object.keys(TABS).map((t) => button('tab', 'tab', { 'data-tab': t }));
      this.categorySelect = h('select', { class: 'category' });
      this.filters = h('div', { class: 'filters', role: 'group' }, ...this.tabButtons, this.categorySelect);
      this.notice = h('p', { class: 'notice', part: 'notice', role: 'alert', hidden: true });
      this.list = h('ul', { class: 'list', role: 'list' });
      this.empty = h('p', { class: 'empty' });
      this.sentinel = h('div', { class: 'sentinel' });
      this.announcer = h('div', { class: 'sr announcer', role: 'status', 'aria-live': 'polite' });
      this.toasts = h('div', { class: 'toasts' });
      this.settings = new Settings(this);
      this.push = new Push(this);
      this.pushButton = h('button', { class: 'link', type: 'button', 'data-action': 'push', part: 'push-button' });
      this.pushNote = h('p', { class: 'push-note', role: 'status' });
      this.pushRow = h('div', { class: 'push', hidden: true }, this.pushButton, this.pushNote);
      this.listView = h('div', { class: 'list-view' },
        h('div', { class: 'head' }, this.heading, h('div', { class: 'actions' }, this.allButton, this.settingsButton)),
        this.filters, this.notice, this.list, this.empty, this.sentinel, this.pushRow);
      this.panel = h('div', { id: 'panel', class: 'panel', part: 'panel', role: 'dialog', 'aria-labelledby': 'heading', tabindex: '-1', hidden: true },
        this.listView, this.settings.view);
      this.top = h('div', { class: 'wrap' }, this.button, this.panel, this.announcer, this.toasts);
      this.root.append(this.top);
      this.button.addEventListener('click', () => this.toggle(this.panel.hidden));
      this.panel.addEventListener('click', (e) => this.clicked(e));
      this.list.addEventListener('click', (e) => this.clickItem(e));
      // A focused control that goes (hidden, or its item gone) leaves the
      // focus on <body>: it comes back to the menu.
      this.panel.addEventListener('focusout', (e) => {
        const el = e.target;
        if (e.relatedTarget) return;
        setTimeout(() => {
          if (!this.panel.hidden && !this.root.activeElement && (!el.isConnected || !el.getClientRects().length)) this.panel.focus();
        });
      });
      this.categorySelect.addEventListener('change', () => {
        this.category = this.categorySelect.value;
        this.render();
        this.checkMore();
      });
      this.toasts.addEventListener('click', (e) => {
        const t = e.target.closest('.toast');
        if (!t) return;
        if (t.contains(deepActive())) this.button.focus();
        t.remove();
        if (!e.target.closest('.close') && this.panel.hidden) this.toggle(true);
      });
      this.root.addEventListener('keydown', (e) => {
        if (e.key !== 'Escape' || this.panel.hidden) return;
        e.stopPropagation();
        if (this.settings.open) return this.showSettings(false); // back to the menu
        this.toggle(false);
        this.button.focus();
      });
      this.outside = (e) => { if (!e.composedPath().includes(this)) this.toggle(false); };
      this.place = () => this.position();
      // Infinite scroll: the next page loads when the list's end comes near.
      this.io = new IntersectionObserver((es) => { if (es.some((x) => x.isIntersecting)) this.checkMore(); });
      this.io.observe(this.sentinel);
    }

    disconnectedCallback() {
      super.disconnectedCallback();
      this.toggle(false);
    }

    // showSettings switches the panel to the settings view, or back to the
    // notifications, the focus on the button that opened the settings.
    showSettings(on) {
      this.listView.hidden = on;
      this.panel.setAttribute('aria-labelledby', on ? 'settings-heading' : 'heading');
      if (on) return this.settings.show();
      this.settings.hide();
      this.render();
      this.settingsButton.focus();
    }

    toggle(open) {
      if (!open && this.settings.open) {
        this.settings.hide();
        this.listView.hidden = false;
        this.panel.setAttribute('aria-labelledby', 'heading');
      }
      this.panel.hidden = !open;
      this.button.setAttribute('aria-expanded', String(open));
      const how = open ? 'addEventListener' : 'removeEventListener';
      document[how]('pointerdown', this.outside, true);
      window[how]('resize', this.place);
      window[how]('scroll', this.place, true);
      if (!open) return;
      this.times = true;
      this.render(); // fresh relative times
      this.times = false;
      this.position();
      this.push.refresh();
      this.panel.focus();
      this.checkMore();
    }

    // position keeps the panel inside the viewport wherever the host puts
    // the bell: under it (above it when there is more room there), aligned
    // on its right edge, moved in from the viewport's edges.
    position() {
      if (this.panel.hidden) return;
      const r = this.button.getBoundingClientRect();
      const { clientWidth: vw, clientHeight: vh } = document.documentElement;
      const m = 8;
      const w = Math.min(384, vw - 2 * m);
      const below = vh - r.bottom - 2 * m;
      const above = r.top - 2 * m;
      const up = below < 240 && above > below;
      Object.assign(this.panel.style, {
        width: w + 'px',
        left: Math.max(m, Math.min(r.right - w, vw - w - m)) + 'px',
        top: up ? 'auto' : r.bottom + m + 'px',
        bottom: up ? vh - r.top + m + 'px' : 'auto',
        maxHeight: Math.min(512, up ? above : below) + 'px',
      });
    }

    // checkMore loads the next page while the end of the list is in sight
    // (a filter that leaves few items loads more too).
    async checkMore() {
      if (!this.next || this.loadingMore || this.panel.hidden || this.settings.open) return;
      if (this.sentinel.getBoundingClientRect().top > this.panel.getBoundingClientRect().bottom + 200) return;
      this.loadingMore = true;
      this.render();
      const ok = await this.more();
      this.loadingMore = false;
      this.render();
      if (ok) {
        this.moreFailures = 0;
        this.checkMore();
        return;
      }
      // The end stays in sight, so the observer will not call again: try
      // again later (a refused page, 429 say, must not end the list).
      const n = (this.moreFailures = (this.moreFailures || 0) + 1);
      this.later(() => this.checkMore(), Math.min(30000, 1000 * 2 ** (n - 1)));
    }

    renderPush() {
      if (!this.built) return;
      const s = this.strings, st = this.push.state;
      this.pushRow.hidden = st === 'hidden';
      this.pushButton.hidden = st === 'denied';
      if (st === 'busy') this.pushButton.setAttribute('aria-disabled', 'true'); else this.pushButton.removeAttribute('aria-disabled');
      this.pushButton.textContent = st === 'on' ? s.pushOff : s.pushOn;
      this.pushRow.dataset.state = st;
      this.pushNote.textContent = st === 'denied' ? s.pushDenied : this.push.failed ? s.pushFailed : '';
      this.pushNote.hidden = !this.pushNote.textContent;
    }

    async clicked(e) {
      const b = e.target.closest('button[data-action]');
      if (!b || this.busy.has(b)) return;
      switch (b.dataset.action) {
        case 'settings': return this.showSettings(true);
        case 'back': return this.showSettings(false);
        case 'use-zone': return;
        case 'tab':
          this.tab = b.dataset.tab;
          if ((this.tab === 'archive') !== this.archived) await this.showArchive(this.tab === 'archive');
          else this.render();
          return this.checkMore();
      }
      const li = b.closest('li');
      const index = li ? [...this.list.children].indexOf(li) : -1;
      this.busy.add(b);
      b.setAttribute('aria-disabled', 'true');
      switch (b.dataset.action) {
        case 'push': await this.push.toggle(); break;
        case 'read-all': await this.readAll(); break;
        case 'toggle': await this.act(Number(li.dataset.id), li.classList.contains('unread') ? 'read' : 'unread'); break;
        case 'postpone': await this.act(Number(li.dataset.id), 'postpone'); break;
        case 'archive': case 'unarchive': await this.act(Number(li.dataset.id), b.dataset.action); break;
        case 'run': await this.run(li, Number(li.dataset.id), b.dataset.n); break;
      }
      this.busy.delete(b);
      b.removeAttribute('aria-disabled');
      if (this.panel.hidden || (b.isConnected && !b.hidden)) return;
      // Its item left the list, or the button went: the focus goes to the
      // item now in its place, else to the menu.
      const next = index >= 0 && this.list.children[Math.min(index, this.list.children.length - 1)];
      ((next && next.querySelector('button')) || this.panel).focus();
    }

    // clickItem: a click on an item's own link, or elsewhere on an item
    // with a url (not on its buttons nor its body's links), marks it read
    // and opens the link.
    clickItem(e) {
      const li = e.target.closest('li.item');
      const it = li && this.items.find((x) => x.id === Number(li.dataset.id));
      const href = it && safeURL(it.url);
      if (!it || e.defaultPrevented || this.follow(e, it) || e.target.closest('a[href], button') || !href || e.button || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      this.openItem(it, href);
    }

    async readAll() {
      const conn = this.conn;
      try {
        await conn.request('POST', '/notifications/read-all', { channel: this.channel });
        this.retries.delete('0 read-all');
        const now = new Date().toISOString();
        for (const x of this.items) x.read_at ||= now;
        if (conn.state !== 'live') conn.refreshCounts();
      } catch (err) {
        this.retryLater('0 read-all', err, () => this.readAll());
      }
      this.render();
    }

    upsert(it, replaying) {
      const fresh = !replaying && it.channel === this.channel && !it.read_at && !this.items.some((x) => x.id === it.id);
      super.upsert(it, replaying);
      if (fresh) this.arrived(it);
    }

    // arrived announces a new notification in the polite live region; with
    // the toasts attribute it shows a toast too, and with the desktop
    // attribute a desktop notification (the Notification API) while the
    // page is out of sight, if the person allowed them.
    arrived(it) {
      const s = this.strings;
      this.announcer.textContent = s.newItem(it.title);
      if (this.hasAttribute('toasts')) {
        const t = h('div', { class: 'toast', part: 'toast', 'data-status': it.status_type }, mark(it.status_type, s),
          h('p', { class: 'title' }, it.title), h('button', { class: 'close', type: 'button', 'aria-label': s.dismiss(it.title) }, '×'));
        this.toasts.prepend(t);
        while (this.toasts.children.length > 3) this.toasts.lastChild.remove();
        this.later(() => { if (t.contains(deepActive())) this.button.focus(); t.remove(); }, 8000);
      }
      const N = window.Notification;
      if (this.hasAttribute('desktop') && N && N.permission === 'granted' && document.visibilityState !== 'visible') {
        try {
          new N(it.title, { body: safeBody(it.body).textContent.slice(0, 200), tag: 'cloche-' + it.id, lang: language(this) });
        } catch (err) { console.warn('cloche:', err.message); }
      }
    }

    render() {
      if (!this.built) return;
      const s = this.strings;
      const lang = language(this);
      const conn = this.conn;
      const counts = conn && conn.counts;
      const known = !!counts || this.loaded; // an answer came: before it, no count is said
      const n = counts ? counts.message || 0 : this.items.filter((x) => !x.read_at).length;
      const off = !!(conn && conn.lost);
      this.setLang(this.top);
      setText(this.badge, n > 99 ? '99+' : String(n));
      this.badge.hidden = n === 0;
      this.button.classList.toggle('off', off);
      this.button.setAttribute('aria-label', (known ? s.bell(n) : s.bellLoading) + (off ? s.offlineSuffix : ''));
      setText(this.heading, s.notifications);
      setText(this.allButton, s.markAllRead);
      this.allButton.hidden = this.archived || (n === 0 && !this.items.some((x) => !x.read_at));
      setText(this.settingsButton, s.settings);
      this.settings.render();
      this.renderPush();
      this.renderNotice(true);
      this.filters.setAttribute('aria-label', s.filters);
      for (const b of this.tabButtons) {
        const t = b.dataset.tab;
        const count = t === 'unread' ? (known ? n : '') : (t === 'archive') === this.archived ? this.items.length + (this.next ? '+' : '') : '';
        setText(b, s.tabs[t] + (count !== '' && this.loaded ? ` (${count})` : ''));
        b.setAttribute('aria-pressed', String(t === this.tab));
      }
      // Categories, with their unread ones among those loaded.
      const cats = new Map(this.category ? [[this.category, 0]] : []);
      for (const it of this.items) cats.set(category(it), (cats.get(category(it)) || 0) + (it.read_at ? 0 : 1));
      const opts = [['', s.anyCategory], ...[...cats].sort().map(([c, k]) => [c, k ? `${c} (${k})` : c])];
      const sig = opts.join('|');
      const sel = this.categorySelect;
      if (sel.sig !== sig) {
        sel.sig = sig;
        sel.replaceChildren(...opts.map(([v, text]) => h('option', { value: v }, text)));
        sel.value = this.category;
      }
      sel.setAttribute('aria-label', s.category);
      sel.hidden = cats.size < 2 && !this.category;

      const shown = this.items.filter((it) => TABS[this.tab](it) && (!this.category || category(it) === this.category));
      syncChildren(this.list, shown, makeItem, (li, it) => fillItem(li, it, s, lang, this.times, this.archived));
      const busy = !this.loaded || !!this.loadingMore;
      if (busy) this.list.append(...[1, 2, 3].map(() => h('li', { class: 'skeleton', 'aria-hidden': 'true' }, h('span'), h('span'))));
      this.listView.setAttribute('aria-busy', String(busy));
      setText(this.empty, this.failed ? s.failed : this.category ? s.emptyCategory : s.emptyTab[this.tab]);
      this.empty.hidden = busy || shown.length > 0 || (!this.failed && !!this.next);
    }
  }

  // <cloche-banner>: the header_message channel.
  class ClocheBanner extends ClocheElement {
    constructor() {
      super('header_message', true, 20);
      this.allPages = true; // one banner per unread header message, however many
    }

    build() {
      this.region = h('div', { class: 'banners', role: 'region', 'aria-live': 'polite', tabindex: '-1' });
      this.notice = h('p', { class: 'notice', part: 'notice', role: 'alert', hidden: true });
      this.top = h('div', {}, this.notice, this.region);
      this.root.append(this.top);
      // Closing a banner, or running one of its actions, marks it read;
      // following one of its links too.
      this.region.addEventListener('click', async (e) => {
        const banner = e.target.closest('.banner');
        const it = banner && this.items.find((x) => x.id === Number(banner.dataset.id));
        const b = e.target.closest('button');
        if (!it || this.follow(e, it) || !b || b.busy) return;
        b.busy = true; // not disabled: that drops the focus
        const i = [...this.region.children].indexOf(banner);
        await (b.dataset.n ? this.run(banner, it.id, b.dataset.n) : this.act(it.id, 'read'));
        b.busy = false;
        if (banner.isConnected) return;
        // The focus goes to the banner now in its place, else to the region.
        const next = this.region.children[Math.min(i, this.region.children.length - 1)];
        (next ? next.querySelector('.close') : this.region).focus();
      });
    }

    render() {
      if (!this.built) return;
      const s = this.strings;
      this.setLang(this.top);
      this.renderNotice(false);
      this.region.setAttribute('aria-label', s.announcements);
      syncChildren(this.region, this.items, () => {
        const div = h('div', { class: 'banner', part: 'banner' });
        const p = (div.parts = parts());
        p.close = h('button', { class: 'close', part: 'close', type: 'button' }, '×');
        div.append(p.mark, h('div', { class: 'main' }, p.title, p.body, p.links, p.note), p.close);
        return div;
      }, (div, it) => {
        if (refill(div, it, s, language(this))) div.parts.close.setAttribute('aria-label', s.dismiss(it.title));
      });
    }
  }

  // <cloche-alerts>: the alert channel, oldest first. An alert is
  // acknowledged, not dismissed: Escape does not close it.
  class ClocheAlerts extends ClocheElement {
    constructor() {
      super('alert', true, 50);
      this.acked = 0; // acknowledged since the modal opened
    }

    build() {
      const p = parts();
      p.title = h('span');
      p.body.id = 'alert-body';
      this.counter = h('p', { class: 'counter' });
      this.ack = h('button', { class: 'ack', part: 'ack', type: 'button' });
      this.notice = h('p', { class: 'notice', part: 'notice', role: 'alert', hidden: true });
      this.dialog = h('div', { class: 'dialog', part: 'dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'alert-title', 'aria-describedby': 'alert-body', tabindex: '-1' },
        this.counter, h('h2', { id: 'alert-title' }, p.mark, ' ', p.title), p.body, this.notice, p.note, h('div', { class: 'buttons' }, p.links, this.ack));
      this.dialog.parts = p;
      this.backdrop = h('div', { class: 'backdrop', part: 'backdrop', hidden: true }, this.dialog);
      this.root.append(this.backdrop);
      // Acknowledging an alert, running one of its actions or following one
      // of its links (its url's, "Open", or an action's) marks it read.
      this.dialog.addEventListener('click', (e) => {
        const it = this.current(), b = e.target.closest('button');
        if (it && !this.follow(e, it) && b) this.acknowledge(b);
      });
      this.dialog.addEventListener('keydown', (e) => this.trap(e));
      // Focus that leaves the modal (a click of the host's script, say) comes back.
      this.refocus = (e) => { if (!e.composedPath().includes(this)) this.ack.focus(); };
    }

    disconnectedCallback() {
      super.disconnectedCallback();
      this.close();
    }

    current() { return this.items[this.items.length - 1]; }

    // acknowledge marks the alert read with b, its acknowledgement or one of
    // its actions (run: a done one is read).
    async acknowledge(b) {
      const it = this.current();
      if (!it || this.acking) return;
      this.acking = true; // the button stays enabled: disabling it would drop the focus
      b.setAttribute('aria-disabled', 'true');
      if (b.dataset.n ? (await this.run(this.dialog, it.id, b.dataset.n)).ok : await this.act(it.id, 'read')) this.acked++;
      this.acking = false;
      b.removeAttribute('aria-disabled');
      this.render();
      if (!this.backdrop.hidden && !this.dialog.contains(deepActive())) this.ack.focus(); // the next alert
    }

    trap(e) {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        return;
      }
      if (e.key !== 'Tab') return;
      const focusable = [...this.dialog.querySelectorAll('a[href], button:not([disabled])')];
      const i = focusable.indexOf(this.root.activeElement);
      if (e.shiftKey ? i <= 0 : i === focusable.length - 1) {
        e.preventDefault();
        focusable[e.shiftKey ? focusable.length - 1 : 0].focus();
      }
    }

    render() {
      if (!this.built) return;
      this.setLang(this.backdrop);
      const it = this.current();
      if (!it) return this.close();
      const s = this.strings;
      this.renderNotice(false);
      if (refill(this.dialog, it, s, language(this), s.open)) this.dialog.parts.note.hidden = true;
      this.ack.textContent = s.ack;
      if (this.backdrop.hidden) this.open();
      const total = this.acked + this.items.length;
      this.counter.textContent = s.counter(this.acked + 1, total);
      this.counter.hidden = total === 1;
    }

    open() {
      this.acked = 0;
      this.restore = deepActive();
      this.backdrop.hidden = false;
      document.addEventListener('focusin', this.refocus, true);
      this.ack.focus();
    }

    close() {
      if (!this.backdrop || this.backdrop.hidden) return;
      this.backdrop.hidden = true;
      this.dialog.key = null;
      this.acked = 0;
      document.removeEventListener('focusin', this.refocus, true);
      if (this.restore && this.restore.isConnected) this.restore.focus();
      if (this.next && this.conn) this.reload(); // more than one page was unread
    }
  }

  // --- Styles --------------------------------------------------------------
  // Every colour, the font and the radius come from custom properties the
  // host may set (README: "Styling").

  const CSS = `
:host {
  --_fg: var(--cloche-fg, light-dark(#1f2328, #e6edf3)); --_bg: var(--cloche-bg, light-dark(#fff, #161b22));
  --_muted: var(--cloche-muted, light-dark(#59636e, #9da7b3)); --_border: var(--cloche-border, light-dark(#d0d7de, #3d444d));
  --_accent: var(--cloche-accent, light-dark(#0b6bcb, #4493f8)); --_unread: var(--cloche-unread-bg, light-dark(#ddf4ff, #12263f));
  --_banner: var(--cloche-banner-bg, light-dark(#fff8c5, #3b2e00)); --_error: var(--cloche-error-bg, light-dark(#ffebe9, #4a1518));
  --_accent-fg: var(--cloche-accent-fg, light-dark(#fff, #0d1117)); --_hover: var(--cloche-hover, rgba(127, 127, 127, .15)); --_skeleton: var(--cloche-skeleton, light-dark(#e4e8ec, #2d333b));
  font: 14px/1.45 var(--cloche-font, system-ui, -apple-system, "Segoe UI", sans-serif); color: var(--_fg);
}
:host([theme=dark]) { color-scheme: dark; }
:host([theme=light]) { color-scheme: light; }
:host([theme=auto]) { color-scheme: light dark; }
[hidden] { display: none !important; }
button { font: inherit; cursor: pointer; }
button:disabled { cursor: progress; opacity: .6; }
:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
.bell:focus-visible { outline: 3px solid var(--cloche-bell-focus, currentColor); outline-offset: 1px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
[data-status] { --mark: var(--cloche-neutral, #6e7781); }
[data-status=valid] { --mark: var(--cloche-valid, #1a7f37); }
[data-status=invalid] { --mark: var(--cloche-invalid, var(--cloche-danger, #cf222e)); }
[data-status=caution] { --mark: var(--cloche-caution, #bf8700); }
[data-status=document] { --mark: var(--cloche-document, #8250df); }
[data-status=calendar] { --mark: var(--cloche-calendar, #0969da); }
.mark { display: inline-block; flex: none; width: .65rem; height: .65rem; margin-top: .4em; border-radius: 50%; background: var(--mark); }
.title { margin: 0; }
.body { overflow-wrap: anywhere; }
.body p, .body ul, .body ol { margin: .2em 0; }
.body a { color: var(--_accent); }
:host(cloche-bell) { position: relative; display: inline-block; vertical-align: middle; }
.bell { position: relative; display: grid; place-items: center; width: 2.5rem; height: 2.5rem; padding: 0; border: 0; border-radius: 50%; background: transparent; color: var(--cloche-bell-fg, inherit); }
.bell:hover, .bell[aria-expanded=true] { background: var(--_hover); }
.bell svg { width: 1.4rem; height: 1.4rem; fill: currentColor; }
.badge { position: absolute; top: 0; right: 0; min-width: 1.15rem; height: 1.15rem; padding: 0 .3rem; box-sizing: border-box; border-radius: .6rem; background: var(--cloche-danger, #cf222e); color: var(--cloche-danger-fg, #fff); font-size: .7rem; font-weight: 700; line-height: 1.15rem; text-align: center; }
.panel { position: fixed; z-index: var(--cloche-z, 1000); width: min(24rem, calc(100vw - 1rem)); max-height: min(32rem, 75vh); overflow: auto; box-sizing: border-box; text-align: start; background: var(--_bg); color: var(--_fg); border: 1px solid var(--_border); border-radius: var(--cloche-radius, 8px); box-shadow: var(--cloche-shadow, 0 8px 24px rgba(31, 35, 40, .18)); }
.panel:focus { outline: none; }
.head { position: sticky; top: 0; display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; padding: .7rem 1rem; background: inherit; border-bottom: 1px solid var(--_border); }
h2 { margin: 0; font-size: 1rem; }
.link, .meta button, .tab { min-height: 24px; padding: .1rem .2rem; border: 0; background: none; color: var(--_accent); }
.bell.off svg { opacity: .55; }
.bell.off::after { content: ""; position: absolute; bottom: .3rem; right: .3rem; width: .55rem; height: .55rem; border-radius: 50%; background: var(--cloche-neutral, #6e7781); border: 2px solid currentColor; }
.filters { display: flex; flex-wrap: wrap; align-items: center; gap: .3rem; padding: .4rem 1rem; border-bottom: 1px solid var(--_border); }
.tab { padding: .1rem .6rem; border-radius: 1rem; color: inherit; }
.tab[aria-pressed=true] { background: var(--_unread); color: var(--_fg); font-weight: 600; box-shadow: inset 0 0 0 1px var(--_accent); }
.category { margin-left: auto; min-height: 24px; min-width: 0; max-width: 100%; font: inherit; font-size: .85rem; color: inherit; background: var(--_bg); border: 1px solid var(--_border); border-radius: 4px; }
.notice { margin: 0; padding: .4rem 1rem; background: var(--_error); border-left: 4px solid var(--cloche-danger, #cf222e); color: var(--_fg); }
.skeleton { display: grid; gap: .4rem; padding: .8rem 1rem .8rem 2.35rem; border-bottom: 1px solid var(--_border); }
.skeleton span { height: .75rem; border-radius: 4px; background: var(--_skeleton); }
.skeleton span + span { width: 60%; }
.sentinel { height: 4px; }
.toasts { position: fixed; right: .5rem; bottom: .5rem; z-index: var(--cloche-z-modal, 2000); display: grid; gap: .5rem; width: min(22rem, calc(100vw - 1rem)); }
.toast { display: flex; align-items: flex-start; gap: .6rem; padding: .6rem .8rem; cursor: pointer; background: var(--_bg); color: var(--_fg); border: 1px solid var(--_border); border-left: 4px solid var(--mark); border-radius: var(--cloche-radius, 8px); box-shadow: var(--cloche-shadow, 0 8px 24px rgba(31, 35, 40, .18)); }
.toast .title { flex: 1; font-weight: 600; }
.list { margin: 0; padding: 0; list-style: none; }
.item { display: flex; gap: .7rem; padding: .7rem 1rem; border-bottom: 1px solid var(--_border); }
.item.unread { background: var(--_unread); }
.item.unread .title { font-weight: 700; }
.main { flex: 1; min-width: 0; }
.item .body, time { color: var(--_muted); }
.meta { display: flex; flex-wrap: wrap; align-items: baseline; gap: .1rem .8rem; margin-top: .15rem; font-size: .8rem; }
.meta button { margin-left: -.2rem; }
.item.linked { cursor: pointer; }
.open { color: inherit; text-decoration: none; }
.open:hover, .open:focus-visible { text-decoration: underline; }
.links { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .35rem; }
.action { min-height: 24px; padding: .15rem .6rem; border: 1px solid var(--_accent); border-radius: 4px; background: var(--_bg); color: var(--_accent); font: inherit; font-size: .85rem; text-decoration: none; cursor: pointer; }
.note { margin: .3rem 0 0; font-size: .85rem; }
.empty { margin: 0; padding: 1.5rem 1rem; text-align: center; color: var(--_muted); }
.push { padding: .5rem 1rem; border-top: 1px solid var(--_border); font-size: .85rem; }
.push-note { margin: .2rem 0 0; color: var(--_muted); }
.actions { display: flex; flex-wrap: wrap; gap: .2rem .6rem; justify-content: flex-end; }
.list-view, .settings { background: inherit; }
.settings .head { align-items: center; }
h2[tabindex]:focus { outline: none; }
.prefs { padding: .5rem 1rem 1rem; }
.prefs fieldset { margin: 0 0 .8rem; padding: .4rem .6rem; border: 1px solid var(--_border); border-radius: var(--cloche-radius, 8px); }
.prefs legend { padding: 0 .3rem; font-weight: 700; }
.prefs .row { padding: .35rem 0; border-top: 1px solid var(--_border); }
.prefs .row:first-of-type { border-top: 0; }
.prefs .name { display: block; }
.prefs code { font-size: .75rem; color: var(--_muted); overflow-wrap: anywhere; }
.req { font-size: .8rem; color: var(--_muted); }
.switches { display: flex; flex-wrap: wrap; gap: 0 .75rem; font-size: .9em; }
.switch { display: inline-flex; align-items: center; gap: .25rem; min-height: 1.75rem; }
.switch input, .prefs legend input { width: 1.05rem; height: 1.05rem; margin: 0; accent-color: var(--_accent); }
.prefs .field { margin: 0 0 .8rem; display: flex; flex-wrap: wrap; align-items: center; gap: .3rem .5rem; }
.prefs .field > label:first-child { font-weight: 700; flex-basis: 100%; }
.prefs .line { display: inline-flex; flex-wrap: wrap; align-items: center; gap: .3rem .5rem; }
.prefs .quiet .line { margin: .3rem 0; }
.prefs .days { border: 0; padding: 0; margin: .2rem 0 0; }
.prefs .days legend { padding: 0; font-weight: 400; }
.prefs input[type=text], .prefs input[type=time], .prefs select { font: inherit; min-height: 1.9rem; padding: .1rem .35rem; box-sizing: border-box; max-width: 100%; color: inherit; background: var(--_bg); border: 1px solid var(--_border); border-radius: 4px; }
.prefs input[type=text] { width: 16rem; }
.prefs [aria-invalid=true] { border-color: var(--cloche-danger, #cf222e); outline: 1px solid var(--cloche-danger, #cf222e); }
.hint { flex-basis: 100%; font-size: .8rem; }
.status { margin: 0 0 .5rem; color: var(--cloche-valid, #1a7f37); }
.status:empty, .error:empty { display: none; }
.error { margin: 0 0 .6rem; padding: .4rem .6rem; border-left: 4px solid var(--cloche-danger, #cf222e); background: var(--_error); }
.error p, .error ul { margin: 0; }
.error ul { padding-left: 1.1rem; }
.save { padding: .45rem 1rem; border: 0; border-radius: var(--cloche-radius, 8px); background: var(--_accent); color: var(--_accent-fg); font-weight: 600; }
:host(cloche-banner) { display: block; }
.banner { display: flex; align-items: flex-start; gap: .7rem; padding: .6rem 1rem; background: var(--_banner); color: var(--cloche-banner-fg, var(--_fg)); border-bottom: 1px solid var(--_border); border-left: 4px solid var(--mark); }
.banner .title { font-weight: 700; }
.banner .open { text-decoration: underline; }
.close { margin-left: auto; min-width: 24px; min-height: 24px; padding: 0 .45rem; border: 0; border-radius: 4px; background: none; color: inherit; font-size: 1.3rem; line-height: 1.4; }
.close:hover { background: var(--_hover); }
.backdrop { position: fixed; inset: 0; z-index: var(--cloche-z-modal, 2000); display: grid; place-items: center; padding: 1rem; background: var(--cloche-backdrop, rgba(31, 35, 40, .55)); }
.dialog { box-sizing: border-box; width: min(30rem, 100%); max-height: 90vh; overflow: auto; padding: 1.25rem 1.5rem; background: var(--_bg); color: var(--_fg); border-top: 6px solid var(--mark); border-radius: var(--cloche-radius, 8px); box-shadow: var(--cloche-shadow, 0 8px 24px rgba(31, 35, 40, .3)); }
.dialog:focus { outline: none; }
.dialog h2 { display: flex; align-items: baseline; gap: .5rem; font-size: 1.15rem; }
.counter { margin: 0 0 .3rem; font-size: .8rem; color: var(--_muted); }
.dialog .body { margin: .6rem 0 1rem; }
.buttons { display: flex; flex-wrap: wrap; align-items: center; justify-content: flex-end; gap: .5rem; }
.buttons .links { margin: 0; }
.buttons .action { padding: .45rem .9rem; font-size: inherit; }
.ack { padding: .5rem 1rem; border: 0; border-radius: var(--cloche-radius, 8px); background: var(--_accent); color: var(--_accent-fg); font-weight: 600; }
`;

  customElements.define('cloche-bell', ClocheBell);
  customElements.define('cloche-banner', ClocheBanner);
  customElements.define('cloche-alerts', ClocheAlerts);
})();
