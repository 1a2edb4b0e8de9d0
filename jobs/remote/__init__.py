"""Remote collection (异地代收): package intake and validation, delivery, tracking, returns, handover, report."""
