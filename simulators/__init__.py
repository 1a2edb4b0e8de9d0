"""Stand-ins for the systems the gateway talks to: the platform's exchange database
(synthetic records with labelled defects) and, later, the receivers' endpoints."""
