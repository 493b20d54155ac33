-- The label-overview documents of a set of pairs over one window, as the API renders them.
--
-- Reads the message-grain marts (fct_user_messages, fct_labeled_messages) and
-- dim_custom_labels: distinct conversations over a clipped ISO week or the whole window do not
-- add up from the daily marts, so they are counted here from the messages, for any window of
-- at most 31 days. Aggregates as three grouping sets per fact (day bucket, week bucket, window
-- total), then each part's JSON object, then one document per pair and group-by. Every bucket
-- of the window is present, empty ones as {} and zeros.
--
-- Parameters: $workspaces, $channels (the pairs, side by side), $first, $last (the window's
-- days), $day_keys, $week_keys (its buckets), $from, $to (its instants). json_text() is
-- defined by documents.py before the query runs.
with

pairs as (
    select unnest($workspaces::varchar[]) as workspace_id,
           unnest($channels::varchar[]) as channel_id
),

bucket_keys as (
    select 'day' as group_by, unnest($day_keys::varchar[]) as bucket
    union all
    select 'week', unnest($week_keys::varchar[])
),

label_groups as (
    select
        workspace_id,
        channel_id,
        case when grouping(sent_on) = 0 then 'day' when grouping(week_start) = 0 then 'week' end
            as group_by,
        coalesce(sent_on, week_start)::varchar as bucket,
        label,
        count(*) as messages,
        count(distinct conversation_id) as conversations,
        bool_or(is_custom_label) as is_custom
    from marts.fct_labeled_messages
    -- A semi-join on workspaces: list_contains would scan the list for every row.
    where workspace_id in (select distinct workspace_id from pairs)
        and sent_on between $first and $last
    group by grouping sets (
        (workspace_id, channel_id, sent_on, label),
        (workspace_id, channel_id, week_start, label),
        (workspace_id, channel_id, label)
    )
),

activity_groups as (
    select
        workspace_id,
        channel_id,
        case when grouping(sent_on) = 0 then 'day' when grouping(week_start) = 0 then 'week' end
            as group_by,
        coalesce(sent_on, week_start)::varchar as bucket,
        count(*) as messages,
        count(distinct conversation_id) as conversations
    from marts.fct_user_messages
    where workspace_id in (select distinct workspace_id from pairs)
        and sent_on between $first and $last
    group by grouping sets (
        (workspace_id, channel_id, sent_on),
        (workspace_id, channel_id, week_start),
        (workspace_id, channel_id)
    )
),

-- {"<label>":{"count":n,"uniqueConversations":n},...} per bucket, and per window (group_by null)
label_objects as (
    select
        workspace_id,
        channel_id,
        group_by,
        bucket,
        '{' || string_agg(
            json_text(label) || ':{"count":' || messages
                || ',"uniqueConversations":' || conversations || '}',
            ',' order by label
        ) || '}' as body
    from label_groups
    group by all
),

custom_label_objects as (
    select
        label_groups.workspace_id,
        label_groups.channel_id,
        '{' || string_agg(
            json_text(label_groups.label)
                || ':{"name":' || json_text(coalesce(labels.custom_label_name, label_groups.label))
                || ',"color":' || coalesce(json_text(labels.custom_label_color), 'null') || '}',
            ',' order by label_groups.label
        ) || '}' as body
    from label_groups
    left join marts.dim_custom_labels as labels
        on labels.workspace_id = label_groups.workspace_id
        and labels.custom_label_id = label_groups.label
    where label_groups.group_by is null and label_groups.is_custom
    group by all
),

bucket_objects as (
    select
        pairs.workspace_id,
        pairs.channel_id,
        bucket_keys.group_by,
        '{' || string_agg(
            json_text(bucket_keys.bucket) || ':' || coalesce(label_objects.body, '{}'),
            ',' order by bucket_keys.bucket
        ) || '}' as buckets,
        '{' || string_agg(
            json_text(bucket_keys.bucket)
                || ':{"userMessages":' || coalesce(activity_groups.messages, 0)
                || ',"activeConversations":' || coalesce(activity_groups.conversations, 0) || '}',
            ',' order by bucket_keys.bucket
        ) || '}' as activity
    from pairs
    cross join bucket_keys
    left join label_objects
        on label_objects.workspace_id = pairs.workspace_id
        and label_objects.channel_id = pairs.channel_id
        and label_objects.group_by = bucket_keys.group_by
        and label_objects.bucket = bucket_keys.bucket
    left join activity_groups
        on activity_groups.workspace_id = pairs.workspace_id
        and activity_groups.channel_id = pairs.channel_id
        and activity_groups.group_by = bucket_keys.group_by
        and activity_groups.bucket = bucket_keys.bucket
    group by all
)

select
    bucket_objects.workspace_id,
    bucket_objects.channel_id,
    bucket_objects.group_by,
    '{"workspaceId":' || json_text(bucket_objects.workspace_id)
        || ',"mediumId":' || json_text(bucket_objects.channel_id)
        || ',"groupBy":' || json_text(bucket_objects.group_by)
        || ',"from":' || json_text($from)
        || ',"to":' || json_text($to)
        || ',"buckets":' || bucket_objects.buckets
        || ',"totals":' || coalesce(totals.body, '{}')
        || ',"activity":' || bucket_objects.activity
        || ',"activityTotals":{"userMessages":' || coalesce(activity_totals.messages, 0)
        || ',"activeConversations":' || coalesce(activity_totals.conversations, 0) || '}'
        || ',"customLabels":' || coalesce(custom_label_objects.body, '{}')
        || ',"conversationsScanned":' || coalesce(activity_totals.conversations, 0)
        || '}' as body
from bucket_objects
left join label_objects as totals
    on totals.workspace_id = bucket_objects.workspace_id
    and totals.channel_id = bucket_objects.channel_id
    and totals.group_by is null
left join activity_groups as activity_totals
    on activity_totals.workspace_id = bucket_objects.workspace_id
    and activity_totals.channel_id = bucket_objects.channel_id
    and activity_totals.group_by is null
left join custom_label_objects
    on custom_label_objects.workspace_id = bucket_objects.workspace_id
    and custom_label_objects.channel_id = bucket_objects.channel_id
