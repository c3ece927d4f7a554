"""The audit trail for people: runs listed, shown, compared and replayed; a decision's trail."""
