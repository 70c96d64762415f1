-- One service's PostgreSQL account: a login role with no special powers that owns the
-- service's database, which no other role (superusers aside) may connect to.
--
-- psql variables: role, db, password (a URL-safe string). Run as a superuser, connected to
-- any database; safe to run again. Used by deploy/scripts/provision.sh on a dev machine
-- and by deploy/postgres/init.sh in deploy/compose.yaml. The callers pass the password on
-- standard input (`\set password …`), never on a command line.
\set ON_ERROR_STOP on

-- The ALTER ROLE below carries the password: keep it out of the server log whatever the
-- logging settings are.
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';

SELECT format('CREATE ROLE %I', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'password';

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
-- A database created before this script (by `postgres`, when services ran as the
-- superuser) changes hands here, and its objects below.
ALTER DATABASE :"db" OWNER TO :"role";
-- PUBLIC may connect to (and create temporary tables in) every new database by default:
-- without this, any role could open any service's database.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";

-- Hand over what an earlier owner left in the database, so that the role can run its
-- migrations (ALTER TABLE and CREATE OR REPLACE FUNCTION need ownership). REASSIGN OWNED
-- BY postgres cannot do it: it refuses objects of the bootstrap superuser.
\connect :db
SET touchstone.provision_role = :'role';
DO $$
DECLARE
    target text := current_setting('touchstone.provision_role');
    o record;
BEGIN
    -- Schemas; `public` of a PostgreSQL 15 database belongs to pg_database_owner, which
    -- is the role now.
    FOR o IN
        SELECT n.nspname
        FROM pg_namespace n
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND pg_get_userbyid(n.nspowner) NOT IN (target, 'pg_database_owner')
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                            AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', o.nspname, target);
    END LOOP;

    -- Tables, views and the like; a table takes its indexes and its serial/identity
    -- sequences along.
    FOR o IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW'
                              WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'f' THEN 'FOREIGN TABLE'
                              ELSE 'TABLE' END AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND pg_get_userbyid(c.relowner) <> target
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', o.kind, o.name, target);
    END LOOP;

    -- Sequences no table owns (a new query, so it sees the ones that moved above).
    FOR o IN
        SELECT c.oid::regclass AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND c.relkind = 'S'
          AND pg_get_userbyid(c.relowner) <> target
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.deptype IN ('a', 'i', 'e'))
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', o.name, target);
    END LOOP;

    -- Functions and procedures (e.g. trigger functions).
    FOR o IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND pg_get_userbyid(p.proowner) <> target
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                            AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', o.name, target);
    END LOOP;

    -- Enums, ranges, domains and free-standing composite types (array and table row
    -- types follow their element or table).
    FOR o IN
        SELECT t.oid::regtype AS name, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND pg_get_userbyid(t.typowner) <> target
          AND (t.typtype IN ('e', 'r', 'd')
               OR (t.typtype = 'c'
                   AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                            AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', o.kind, o.name, target);
    END LOOP;
END
$$;
