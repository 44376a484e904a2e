-- Moves the test into a new database named by the psql variable test_db,
-- with mtcbind created and pg_temp.try defined, so that no other test's
-- rows change what this one sees.  The test ends with
--   \c :regress_db
--   DROP DATABASE :"test_db";
SELECT current_database() AS regress_db \gset
CREATE DATABASE :"test_db";
\c :"test_db"
SET client_min_messages = warning;
CREATE EXTENSION mtcbind;
\ir try.sql
