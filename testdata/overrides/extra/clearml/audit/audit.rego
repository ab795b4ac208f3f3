# METADATA
# title: Audit labels
# description: An operator's addition next to the default decision policy.
package clearml.audit

import data.clearml.sso

# METADATA
# title: label
# description: A short label for the decision, for log lines.
label := "allowed" if sso.decision.allow

label := "denied" if not sso.decision.allow
