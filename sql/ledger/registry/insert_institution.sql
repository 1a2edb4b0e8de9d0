-- purpose: a new institution version and its id.
INSERT INTO institution (code, utility, xzqh, name, channel, file_format, drop_account, endpoint_conn_id, service_phone, contact_name,
                         contact_mobile, contact_landline, informed, valid_from, form_id, source_row)
VALUES (:code, :utility, :xzqh, :name, :channel, :file_format, :drop_account, :endpoint_conn_id, :service_phone, :contact_name,
        :contact_mobile, :contact_landline, :informed, :valid_from, :form_id, :source_row)
RETURNING version_id
