package sim

import (
	"net/http"

	"cardflow/flows"
)

// forecast answers which steps and people the start form would go through
// if the picked person submitted it now, without starting anything (see
// flows.Engine.Forecast), so the page can show the route before
// submission. Its errors are a start's: a bad form gets every bad field.
func (p *Platform) forecast(w http.ResponseWriter, r *http.Request) {
	req, u, ok := p.startInput(w, r)
	if !ok {
		return
	}
	fc, err := p.deps.Engine.Forecast(r.Context(), flows.ForecastRequest{Applicant: u.ID, FlowID: req.FlowID, Form: req.Form})
	if err != nil {
		p.failStart(w, r, "forecast", req, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"forecast": fc})
}
