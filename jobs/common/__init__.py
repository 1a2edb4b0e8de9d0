"""What every line shares: settings, reference data, alerts, the lifetime balance."""
