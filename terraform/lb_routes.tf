# The API's URL map as data: the route rules of the load balancer (lb.tf), made from
# url_map.json, which `python -m scripts.url_map` generates from the route binding
# (common/api/routes BINDING; a test keeps the two equal). The local stack's gateway routes by
# the same file (emulators/gateway.py). No provider, no resource: tests/terraform evaluates
# these locals with real Terraform offline.
#
# One route rule per service and path template, in url_map.json's priority order (literal
# segments first), each with two match rules: the request's own method (`:method`; GET also
# takes HEAD) and a CORS preflight for one of those methods (OPTIONS with
# Access-Control-Request-Method). Whatever no rule takes goes to the default service,
# list_media, whose router knows the whole binding: 405 with the API's methods, or 404. Unless
# lb_admin_routes, /v1/admin/ answers 404 at the load balancer (priority 1) and its routes are
# left off the map: operators reach them on the functions' own URLs.

locals {
  url_map         = jsondecode(file("${path.module}/url_map.json"))
  api_services    = toset(local.url_map.services)
  lb_admin_prefix = "/v1/admin/"

  lb_route_rules = [
    for rule in local.url_map.rules : {
      # priority 1 is the admin block's
      priority      = rule.priority + 1
      service       = rule.service
      path_template = rule.path_template
      method_regex  = "^(${join("|", distinct(concat(rule.methods, contains(rule.methods, "GET") ? ["HEAD"] : [])))})$"
      cors_regex    = "^(${join("|", rule.methods)})$"
    }
    if var.lb_admin_routes || !rule.admin
  ]
}
