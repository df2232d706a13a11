// Package jobs runs Cloche's background work on River, over whichever store
// backend is open: it inserts jobs inside a store transaction (so that an
// event and its publication job commit together), and starts and stops the
// workers and periodic jobs.
package jobs
