-- The form (`id@version`) an entry is about: the one an admin published.
ALTER TABLE audit ADD COLUMN form TEXT;
