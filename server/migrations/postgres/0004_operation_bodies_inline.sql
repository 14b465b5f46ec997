-- An operation's body is JSON of 2 to 8 KiB. PostgreSQL compresses a row over 2 KiB (pglz) and
-- moves it out of line, which cost more than the rest of a push in the database. Rows up to a
-- whole page now stay as they are; larger ones are still compressed.
ALTER TABLE ops SET (toast_tuple_target = 8160);
