package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cloche/cloche"
)

// metrics are the server's Prometheus metrics:
//
//	cloche_http_request_duration_seconds{method,route,code}  histogram
//	cloche_notifications_total{channel}   notifications (in-app) and e-mails (email) created by this process
//	cloche_publish_delay_seconds          how late scheduled events were published, histogram
//	cloche_deliveries{state}              deliveries of every outbound channel per state (from the database, at scrape)
//	cloche_outbound_deliveries{channel,state}  the same, per outbound channel (email, push, webhook)
//	cloche_outbound_rescued_total{channel}     deliveries this process took from a dead process's lapsed claim, per channel
//	cloche_scheduler_lag_seconds          age of the oldest due event not yet published (0: none)
//	cloche_open_streams                   event streams open on this server
//	cloche_deliveries_rescued_total       e-mail deliveries this process took from a dead process's lapsed claim
//	cloche_events_rescued_total           scheduled events this process handed back after their publisher died
type metrics struct {
	requests      *prometheus.HistogramVec
	notifications *prometheus.CounterVec
	publishDelay  prometheus.Histogram
	// observers keeps requests' histograms by requestLabels: looking one
	// up by its labels hashes them at every request.
	observers sync.Map
}

type requestLabels struct {
	method, route string
	status        int
}

func newMetrics(reg *prometheus.Registry, svc *cloche.Service, streamer Streamer, logger *slog.Logger) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cloche_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method, route and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "code"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloche_notifications_total",
			Help: "Notifications created by this process, per channel (for email: e-mails queued).",
		}, []string{"channel"}),
		publishDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cloche_publish_delay_seconds",
			Help:    "How long after their due datetime scheduled events were published by this process.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300},
		}),
	}
	for _, ch := range []cloche.Channel{cloche.ChannelEmail, cloche.ChannelMessage, cloche.ChannelHeaderMessage, cloche.ChannelAlert, cloche.ChannelPush} {
		m.notifications.WithLabelValues(string(ch)) // every channel shows, at 0
	}
	collectors := []prometheus.Collector{m.requests, m.notifications, m.publishDelay, &statsCollector{svc: svc, logger: logger},
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cloche_deliveries_rescued_total",
			Help: "E-mail deliveries this process took again because the claim of the process sending them lapsed.",
		}, func() float64 { return float64(svc.DeliveriesRescued()) }),
		&rescuedCollector{svc: svc},
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cloche_events_rescued_total",
			Help: "Scheduled events this process handed back to the queue because the process publishing them died.",
		}, func() float64 { return float64(svc.EventsRescued()) })}
	if streamer != nil {
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cloche_open_streams",
			Help: "Event streams open on this server.",
		}, func() float64 { return float64(streamer.OpenStreams()) }))
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	svc.ObservePublished(func(_ context.Context, ev *cloche.Event) {
		for ch, n := range ev.Counts {
			m.notifications.WithLabelValues(string(ch)).Add(float64(n))
		}
		if ev.DueAt != nil && ev.PublishedAt != nil && ev.PublishedAt.After(*ev.DueAt) && ev.DueAt.After(ev.CreatedAt) {
			m.publishDelay.Observe(ev.PublishedAt.Sub(*ev.DueAt).Seconds())
		}
	})
	return m, nil
}

func (m *metrics) observeRequest(method, route string, status int, d time.Duration) {
	l := requestLabels{method, route, status}
	o, ok := m.observers.Load(l)
	if !ok {
		o, _ = m.observers.LoadOrStore(l, m.requests.WithLabelValues(method, route, strconv.Itoa(status)))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// statsCollector reads the database's figures at each scrape.
type statsCollector struct {
	svc    *cloche.Service
	logger *slog.Logger
}

var (
	deliveriesDesc = prometheus.NewDesc("cloche_deliveries", "Deliveries of every outbound channel per state, in the database.", []string{"state"}, nil)
	outboundDesc   = prometheus.NewDesc("cloche_outbound_deliveries", "Deliveries per outbound channel and state, in the database.",
		[]string{"channel", "state"}, nil)
	rescuedDesc = prometheus.NewDesc("cloche_outbound_rescued_total",
		"Deliveries this process took again, per outbound channel, because the claim of the process sending them lapsed.",
		[]string{"channel"}, nil)
	lagDesc = prometheus.NewDesc("cloche_scheduler_lag_seconds",
		"Age of the oldest scheduled event that is due and not yet published (0 when none is).", nil, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- deliveriesDesc
	ch <- outboundDesc
	ch <- lagDesc
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.svc.MonitorStats(ctx)
	if err != nil {
		c.logger.Warn("metrics: database figures", "err", err)
		return
	}
	for state, n := range st.DeliveriesByState {
		ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(n), string(state))
	}
	for _, channel := range c.svc.OutboundChannels() {
		for state := range st.DeliveriesByState { // every state
			n := st.DeliveriesByChannel[channel][state]
			ch <- prometheus.MustNewConstMetric(outboundDesc, prometheus.GaugeValue, float64(n), channel, string(state))
		}
	}
	lag := 0.0
	if st.OldestOverdue != nil {
		lag = max(c.svc.Now().Sub(*st.OldestOverdue).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, lag)
}

// rescuedCollector reports, per outbound channel, the deliveries this
// process rescued.
type rescuedCollector struct{ svc *cloche.Service }

func (c *rescuedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- rescuedDesc }

func (c *rescuedCollector) Collect(ch chan<- prometheus.Metric) {
	for channel, n := range c.svc.DeliveriesRescuedByChannel() {
		ch <- prometheus.MustNewConstMetric(rescuedDesc, prometheus.CounterValue, float64(n), channel)
	}
}
