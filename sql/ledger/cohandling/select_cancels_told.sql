-- purpose: every cancellation planned so far (which version, to which receiver): a version is told once.
SELECT rowguid, utility, version, destination FROM work_order_cancel
