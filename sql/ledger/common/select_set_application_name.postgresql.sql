-- purpose: name a stage lock's session after its holder (host:pid:run), so a waiter can say who holds the lock; '' when released.
SELECT set_config('application_name', :application_name, false)
