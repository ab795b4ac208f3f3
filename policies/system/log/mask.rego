# METADATA
# title: Decision log mask
# description: |
#   OPA's decision-log mask policy. Each element of mask names a part of
#   every logged event to erase, as a JSON pointer under /input or /result,
#   or is an object {"op": "upsert", "path": ..., "value": ...} that
#   replaces it. The default erases the verified claims and keeps the
#   identity's issuer, subject, user id, email, name, groups and
#   email_verified, and the existing user. To log more or less, put a
#   mask.rego of your own in the policy directory or bundle. A mask that
#   fails at run time does not lose the event: it is logged with its whole
#   input erased.
package system.log

# METADATA
# title: mask
# description: The parts of each decision-log event that are erased.
# entrypoint: true
mask contains "/input/identity/claims"
