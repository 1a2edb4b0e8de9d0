-- purpose: put an institution's unbatched account-mode deliveries of one file format into a planned batch.
UPDATE delivery
SET batch_id = :batch_id, updated_at = :now
WHERE channel = 'account' AND batch_id IS NULL AND status = 'pending' AND destination = :destination
  AND EXISTS (
      SELECT 1 FROM work_order_version v
      WHERE v.rowguid = delivery.rowguid AND v.utility = delivery.utility AND v.version = delivery.version
        AND COALESCE(v.file_format, 'csv') = :file_format
  )
