"""Contract review against the playbook: ``review(assistant, contract, role) -> Review``."""

from assistant.review.contract import ReviewError
from assistant.review.playbook import Playbook, PlaybookError, Requirement, load_playbook
from assistant.review.review import Review, ReviewRow, contract_documents, review

__all__ = ["Playbook", "PlaybookError", "Requirement", "Review", "ReviewError", "ReviewRow", "contract_documents",
           "load_playbook", "review"]
