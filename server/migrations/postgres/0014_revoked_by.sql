-- Who revoked a device: the administrator's login when it was done on the overview; NULL when
-- it was done on the command line or by disabling the account.
ALTER TABLE revoked_devices ADD COLUMN revoked_by TEXT;
