"""Which strings of a document are media references (and which are not)."""

from __future__ import annotations

from common.media.resolve import references

ID = "med_01JD0000000000000000000000"


def test_only_whole_string_values_are_references_in_document_order() -> None:
    document = {
        "a": f"data:image/png;{ID}",
        f"data:image/png;{ID}": "a key is not a value",
        "list": [f"data:video/mp4;{ID}", {"deep": [[f"data:image/jpeg;{ID}"]]}],
        "text": f"see data:image/png;{ID}",
        "spaced": f" data:image/png;{ID}",
        "base64": "data:image/png;base64,iVBORw0KGgo=",
        "short": "data:image/png;med_123",
        "numbers": [1, 2.5, True, None],
    }
    assert references(document) == [
        f"data:image/png;{ID}",
        f"data:video/mp4;{ID}",
        f"data:image/jpeg;{ID}",
    ]


def test_a_bare_reference_is_a_document_too() -> None:
    assert references(f"data:image/webp;{ID}") == [f"data:image/webp;{ID}"]
    assert references([]) == []
