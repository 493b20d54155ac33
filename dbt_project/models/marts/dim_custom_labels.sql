-- Every custom label id seen on a message or in a response; ids the API never described get
-- the id as their name and no colour, as GET /label-overview reports them.
with

labeled_messages as (

    select * from {{ ref('fct_labeled_messages') }}

),

metadata as (

    select * from {{ ref('int_custom_label_metadata') }}

),

seen_on_messages as (

    select distinct
        workspace_id,
        label as custom_label_id
    from labeled_messages
    where is_custom_label

),

all_ids as (

    select workspace_id, custom_label_id from seen_on_messages
    union
    select workspace_id, custom_label_id from metadata

),

final as (

    select
        all_ids.workspace_id,
        all_ids.custom_label_id,
        coalesce(metadata.custom_label_name, all_ids.custom_label_id) as custom_label_name,
        metadata.custom_label_color,
        metadata.custom_label_name is not null as has_metadata
    from all_ids
    left join metadata using (workspace_id, custom_label_id)

)

select
    workspace_id,
    custom_label_id,
    custom_label_name,
    custom_label_color,
    has_metadata
from final
