vcl 4.1;
import directors;

probe status {
    .url = "/status";
    .interval = 1.000s;
    .timeout = 1.000s;
    .window = 3;
    .threshold = 2;
    .initial = 2;
}

backend app1 {
    .host = "app1";
    .port = "8080";
    .probe = status;
    .connect_timeout = 1.000s;
    .first_byte_timeout = 3.000s;
}

backend app2 {
    .host = "app2";
    .port = "8080";
    .probe = status;
    .connect_timeout = 1.000s;
    .first_byte_timeout = 3.000s;
}

backend app3 {
    .host = "app3";
    .port = "8080";
    .probe = status;
    .connect_timeout = 1.000s;
    .first_byte_timeout = 3.000s;
}

sub vcl_init {
    new tier = directors.round_robin();
    tier.add_backend(app1);
    tier.add_backend(app2);
    tier.add_backend(app3);
}

sub vcl_recv {
    set req.backend_hint = tier.backend();
    unset req.http.X-Firedrill-Cache;
    unset req.http.X-Firedrill-Age;
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    return (hash);
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        set req.http.X-Firedrill-Cache = "hit";
    } else {
        set req.http.X-Firedrill-Cache = "stale";
    }
    set req.http.X-Firedrill-Age = obj.age;
}

sub vcl_miss {
    set req.http.X-Firedrill-Cache = "miss";
}

sub vcl_pass {
    set req.http.X-Firedrill-Cache = "pass";
}

sub vcl_backend_response {
    set beresp.ttl = 1.000s;
    set beresp.grace = 30.000s;
}

sub vcl_deliver {
    set resp.http.X-Cache = req.http.X-Firedrill-Cache;
    set resp.http.X-Cache-Age = req.http.X-Firedrill-Age;
}
