"""Remote-collection packages: rules, routing, tracking, checklists."""
