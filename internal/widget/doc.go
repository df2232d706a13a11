// Package widget serves the embeddable widget, /widget/cloche.js: three
// custom elements (<cloche-bell>, <cloche-banner>, <cloche-alerts>) that
// show a user's in-app notifications in the host application's pages and
// keep them up to date from the user's live stream.
//
// The script is plain JavaScript, embedded in the binary: no framework and
// no build step. Configuration is in the elements' attributes (token, api,
// token-url, lang, theme; toasts and desktop on the bell), so that a host
// page needs no inline script; see the comment at the top of cloche.js and
// the README's "Widget". It is served without its comment lines and
// indentation, under 20 KB gzipped.
package widget
