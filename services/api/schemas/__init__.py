"""Request and response bodies of the api (API.md), one module per resource.

Every route declares its response model from here, so the OpenAPI document (docs/openapi.json)
is generated from the same code that answers.
"""
