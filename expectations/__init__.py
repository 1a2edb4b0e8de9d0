"""Great Expectations suites built in code, one module per dataset (`build_suite()`);
great_expectations is imported lazily, inside the functions that need it."""
