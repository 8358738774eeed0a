"""WTForms classes, one module per area or workflow. Every field has a GOV.UK widget and every
validator an explicit French message."""
