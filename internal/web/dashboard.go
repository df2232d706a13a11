package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cloche/cloche"
)

// dashboardData is the dashboard's content.
type dashboardData struct {
	Stats        *cloche.Stats
	TotalReached int
	PollInterval time.Duration
	Late         bool // the scheduler is behind by more than a few polls
	Recent       []cloche.Event
	Backend      string
	// E-mails by state (the template cannot index by a typed key).
	Failed, Queued, Sending, Retrying int
	Charts                            *activityCharts
	// Refresh is the auto-refresh period in seconds, 0 when off;
	// RefreshChoices the periods offered.
	Refresh        int
	RefreshChoices []int
}

// refreshChoices are the auto-refresh periods offered, in seconds.
var refreshChoices = []int{30, 60, 300}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	refresh := 0
	if v := r.URL.Query().Get("refresh"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(refreshChoices, n) {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad refresh", "Auto-refresh: choose one of the periods the dashboard offers.")
			return
		}
		refresh = n
	}
	st, err := c.svc.Stats(r.Context())
	if err != nil {
		c.serverError(w, r, s, "read the figures", err)
		return
	}
	recent, err := c.svc.Events(r.Context(), cloche.EventFilter{Limit: 10})
	if err != nil {
		c.serverError(w, r, s, "list the recent events", err)
		return
	}
	act, err := c.svc.Activity(r.Context())
	if err != nil {
		c.serverError(w, r, s, "read the activity", err)
		return
	}
	d := dashboardData{Stats: st, Recent: recent, Backend: c.svc.Backend(),
		PollInterval: c.svc.Config().Scheduler.PollInterval.D(), Charts: buildCharts(act),
		Refresh: refresh, RefreshChoices: refreshChoices}
	d.Failed, d.Queued = st.Deliveries["failed"], st.Deliveries["queued"]
	d.Sending, d.Retrying = st.Deliveries["sending"], st.Deliveries["retrying"]
	for _, n := range st.Reached {
		d.TotalReached += n
	}
	// A few polls late is normal (a check_url being asked, a busy
	// moment); more means the workers are stopped or behind.
	d.Late = st.SchedulerLag > max(10*d.PollInterval, 5*time.Second)
	c.renderRefreshing(w, r, s, http.StatusOK, "dashboard", "Dashboard", "dashboard", d, refresh)
}
