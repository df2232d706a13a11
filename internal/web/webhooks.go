package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cloche/cloche"
)

// webhooksData is the webhooks page: the outlets, and the add form with
// what was typed when it was refused.
type webhooksData struct {
	Outlets []cloche.WebhookOutlet
	Form    webhookForm
	Errors  map[string]string
	Other   []string
}

type webhookForm struct {
	Name, URL, Format, Types, Companies string
}

func (c *Console) webhooks(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderWebhooks(w, r, s, http.StatusOK, &webhooksData{Form: webhookForm{Format: cloche.WebhookStandard}})
}

func (c *Console) renderWebhooks(w http.ResponseWriter, r *http.Request, s *session, status int, d *webhooksData) {
	os, err := c.svc.Webhooks(r.Context())
	if err != nil {
		c.serverError(w, r, s, "list the webhooks", err)
		return
	}
	d.Outlets = os
	c.render(w, r, s, status, "webhooks", "Webhooks", "webhooks", d)
}

// addWebhook: POST /webhooks adds an outlet; refused, the form comes back
// with each wrong field marked.
func (c *Console) addWebhook(w http.ResponseWriter, r *http.Request, s *session) {
	p := r.PostForm
	f := webhookForm{Name: p.Get("name"), URL: p.Get("url"), Format: p.Get("format"), Types: p.Get("types"), Companies: p.Get("companies")}
	o, err := c.svc.AddWebhook(r.Context(), cloche.WebhookInput{Name: f.Name, URL: f.URL, Format: f.Format,
		Types: splitList(f.Types), Recipients: cloche.WebhookRecipients{CompanyIDs: splitList(f.Companies)}})
	switch {
	case err == nil:
		c.logger.InfoContext(r.Context(), "console: webhook added", "who", s.Who, "webhook_id", o.ID, "name", o.Name)
		c.setFlash(w, r, "ok", fmt.Sprintf("Webhook %q added.", o.Name))
		http.Redirect(w, r, c.prefix+"/webhooks", http.StatusSeeOther)
	case errors.Is(err, cloche.ErrInvalid) || errors.Is(err, cloche.ErrConflict):
		d := &webhooksData{Form: f, Errors: map[string]string{}}
		if fes := cloche.FieldErrors(err); len(fes) > 0 {
			for _, fe := range fes {
				d.Errors[fe.Field] = fe.Problem
			}
		} else {
			d.Other = append(d.Other, err.Error())
		}
		c.renderWebhooks(w, r, s, http.StatusUnprocessableEntity, d)
	default:
		c.serverError(w, r, s, "add the webhook", err)
	}
}

// webhookAction: POST /webhooks/{id}/{action}: pause, resume, test or
// remove an outlet, then back to the list with what happened.
func (c *Console) webhookAction(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.errorPage(w, r, s, http.StatusNotFound, "No such webhook", "A webhook id is a positive number.")
		return
	}
	ctx := r.Context()
	o, err := c.svc.Webhook(ctx, id)
	if errors.Is(err, cloche.ErrNotFound) {
		c.errorPage(w, r, s, http.StatusNotFound, "No such webhook", fmt.Sprintf("There is no webhook %d.", id))
		return
	} else if err != nil {
		c.serverError(w, r, s, "read the webhook", err)
		return
	}
	level, msg := "ok", ""
	switch action := r.PathValue("action"); action {
	case "pause":
		_, err = c.svc.PauseWebhook(ctx, id, "the console ("+s.Who+")")
		msg = fmt.Sprintf("Webhook %q paused.", o.Name)
	case "resume":
		_, err = c.svc.ResumeWebhook(ctx, id)
		msg = fmt.Sprintf("Webhook %q resumed.", o.Name)
	case "remove":
		err = c.svc.RemoveWebhook(ctx, id)
		msg = fmt.Sprintf("Webhook %q removed.", o.Name)
	case "test":
		var res *cloche.WebhookTestResult
		if res, err = c.svc.TestWebhook(ctx, id); err == nil {
			switch {
			case res.Error != "":
				level, msg = "warn", fmt.Sprintf("Test webhook to %q not delivered: %s", o.Name, res.Error)
			case !res.OK:
				level, msg = "warn", fmt.Sprintf("Test webhook to %q: the outlet answered %d %s", o.Name, res.Status, res.Response)
			default:
				msg = fmt.Sprintf("Test webhook to %q: the outlet answered %d.", o.Name, res.Status)
			}
		}
	default:
		c.errorPage(w, r, s, http.StatusNotFound, "No such action", "A webhook can be paused, resumed, tested or removed.")
		return
	}
	if err != nil {
		c.serverError(w, r, s, "change the webhook", err)
		return
	}
	c.logger.InfoContext(ctx, "console: webhook "+r.PathValue("action"), "who", s.Who, "webhook_id", id)
	c.setFlash(w, r, level, msg)
	http.Redirect(w, r, c.prefix+"/webhooks", http.StatusSeeOther)
}
