"""A local emulator of the Dynamo External API and its synthetic data, for the tests and the
demo: installed by `make install`, never by the pipeline's image."""
