-- A message lands in the partition of the UTC day of its timestamp (23:59:59.999 belongs to
-- its own day, 00:00:00.000 to the next); any row returned here was landed in the wrong day.
select
    workspace_id,
    channel_id,
    sent_on,
    landing_line,
    sent_at
from {{ ref('fct_user_messages') }}
where sent_at::date <> sent_on
