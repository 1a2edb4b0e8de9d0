-- purpose: (rowguid, utility) of the given ROWGUIDs with a delivery still pending (a rendered batch may still take it out).
SELECT rowguid, utility FROM delivery WHERE rowguid IN :rowguids AND status = 'pending'
