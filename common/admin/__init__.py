"""What operators do: describe, purge, revive, reissue (`operations`). Admin tokens only; the
authorization is the API's."""
