# The dashboard picture in the module README (issue 11): the template's widgets plotted from
# sample metrics with the tools venv's matplotlib.
.PHONY: dashboard-png
dashboard-png: setup-terraform ## Render docs/images/dashboard.png from the dashboard template and sample data
	$(TOOLS_VENV)/bin/python -m tools.dashboard.render_png
