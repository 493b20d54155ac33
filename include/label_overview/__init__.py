"""ELT pipeline for the Dynamo External API's label overview."""
