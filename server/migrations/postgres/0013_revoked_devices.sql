-- Devices an administrator revoked (a lost or stolen phone), and those of a disabled account:
-- their requests are answered `device_revoked`, at which the phone wipes itself, and they
-- cannot log in again under the same device id.
CREATE TABLE revoked_devices (
    device_id  TEXT PRIMARY KEY NOT NULL,
    revoked_ms BIGINT NOT NULL
);
