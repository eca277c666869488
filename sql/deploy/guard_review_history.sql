-- Deploy function guard_review_history and its trigger on "UpgradeRecommendation": the
-- review history is append-only and status changes follow the review lifecycle
-- (jobs/recommend/lifecycle.py) for every role that does not own the table, the jobs role
-- included (the review commands run as it). Enforced by the database, since that role
-- may UPDATE "status" and "reviewHistory" to record reviews:
-- - a new recommendation starts PENDING, with no history and no reviewer;
-- - an update keeps every history entry it had, in order; a status change appends exactly
--   one entry, from the old status to the new one, by the new "reviewedBy", and must be
--   one the lifecycle allows (final states stay final); any other update leaves the
--   history, "reviewedBy" and "reviewedAt" alone.
-- The owner is not held to it: it could disable the trigger anyway.
-- Requires: RecommendationStatus, UpgradeRecommendation.
CREATE OR REPLACE FUNCTION guard_review_history() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    kept  integer;
    added jsonb;
BEGIN
    IF pg_has_role(
        current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE'
    ) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'PENDING' OR NEW."reviewHistory" <> '[]'::jsonb
           OR NEW."reviewedBy" IS NOT NULL OR NEW."reviewedAt" IS NOT NULL THEN
            RAISE EXCEPTION 'a new recommendation starts PENDING, without review history'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;

    kept := jsonb_array_length(OLD."reviewHistory");
    IF jsonb_array_length(NEW."reviewHistory") < kept
       OR EXISTS (
           SELECT 1 FROM generate_series(0, kept - 1) AS i
           WHERE NEW."reviewHistory" -> i IS DISTINCT FROM OLD."reviewHistory" -> i
       ) THEN
        RAISE EXCEPTION 'recommendation %: its review history is append-only', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    added := (
        SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb)
        FROM jsonb_array_elements(NEW."reviewHistory") WITH ORDINALITY AS x(e, n)
        WHERE n > kept
    );

    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        IF added <> '[]'::jsonb OR NEW."reviewedBy" IS DISTINCT FROM OLD."reviewedBy"
           OR NEW."reviewedAt" IS DISTINCT FROM OLD."reviewedAt" THEN
            RAISE EXCEPTION 'recommendation %: a review entry comes with a status change', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;

    IF (OLD.status::text, NEW.status::text) NOT IN (
        ('PENDING', 'REVIEWED'), ('PENDING', 'APPROVED'), ('PENDING', 'DISMISSED'),
        ('PENDING', 'IMPLEMENTED'), ('PENDING', 'EXPIRED'),
        ('REVIEWED', 'APPROVED'), ('REVIEWED', 'DISMISSED'), ('REVIEWED', 'IMPLEMENTED'),
        ('REVIEWED', 'EXPIRED'),
        ('APPROVED', 'IMPLEMENTED'), ('APPROVED', 'DISMISSED'), ('APPROVED', 'EXPIRED')
    ) THEN
        RAISE EXCEPTION 'recommendation % is %: it cannot become %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF jsonb_array_length(added) <> 1
       OR added -> 0 ->> 'from' IS DISTINCT FROM OLD.status::text
       OR added -> 0 ->> 'to' IS DISTINCT FROM NEW.status::text
       OR added -> 0 ->> 'by' IS DISTINCT FROM NEW."reviewedBy"
       OR NEW."reviewedBy" IS NULL OR NEW."reviewedAt" IS NULL THEN
        RAISE EXCEPTION 'recommendation %: a status change appends one review entry, % to %, by its reviewer',
            OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER guard_review_history
    BEFORE INSERT OR UPDATE ON "UpgradeRecommendation"
    FOR EACH ROW EXECUTE FUNCTION guard_review_history();

REVOKE ALL ON FUNCTION guard_review_history() FROM PUBLIC;
