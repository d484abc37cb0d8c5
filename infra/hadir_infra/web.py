"""The PWA's hosting: a private bucket behind CloudFront (origin access control), the API
same-origin under ``/api/*``, strict security headers and a content security policy that allows
only Hadir itself (its API through this distribution, its uploads bucket for the presigned POSTs
and the evidence photos)."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudfront as cloudfront,
    aws_cloudfront_origins as origins,
    aws_s3 as s3,
    aws_s3_deployment as s3deploy,
)
from constructs import Construct

# API Gateway's stage is the path prefix: CloudFront forwards /api/checkins unchanged, API
# Gateway reads stage "api" and route /checkins. The stack, .chalice/config.json and the web
# app's API base (config.js) all say "api" (a test checks they agree).
API_STAGE = "api"
API_PATH = f"/{API_STAGE}/*"
# Forwarded to the API (AllViewerExceptHostHeader: every viewer header but Host, which API
# Gateway needs to be its own; CloudFront forwards Authorization with caching disabled).
API_HEADERS = ("Authorization", "X-Device-Id", "Idempotency-Key", "Content-Type")
HSTS_MAX_AGE_S = 2 * 365 * 24 * 3600
PERMISSIONS_POLICY = ("camera=(self), geolocation=(self), microphone=(), payment=(), usb=(), "
                      "interest-cohort=()")


def content_security_policy(upload_sources: list[str], tile_sources: list[str] = ()) -> str:
    """Only Hadir: scripts, styles and the API from this origin; the uploads bucket for the
    presigned POSTs (connect) and the evidence photos (img); no inline script, no framing."""
    uploads = " ".join(upload_sources)
    tiles = " ".join(tile_sources)
    directives = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'",
        f"img-src 'self' blob: data: {uploads} {tiles}".rstrip(),
        f"connect-src 'self' {uploads}", "media-src 'self' blob:", "font-src 'self'",
        "manifest-src 'self'", "worker-src 'self'", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'", "upgrade-insecure-requests",
    ]
    return "; ".join(" ".join(d.split()) for d in directives)


def config_js(api_base: str = f"/{API_STAGE}", tile_url: str | None = None) -> str:
    """What the app imports at start (web/config.js is an ES module with the same shape): where the
    API is (same origin) and the map tiles, if any; nothing secret."""
    return f"export default {json.dumps({'apiBase': api_base, 'tileUrl': tile_url})};\n"


class WebApp(Construct):
    """The bucket, the distribution and (when ``web_dir`` exists) the app's files."""

    def __init__(self, scope: Construct, id: str, *, rest_api_id: str, uploads: s3.IBucket,
                 web_dir: Path, tile_sources: tuple[str, ...] = ()) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.bucket = s3.Bucket(
            self, "Bucket", encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True, versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="old-app-versions", enabled=True,
                                              noncurrent_version_expiration=cdk.Duration.days(30))],
            removal_policy=cdk.RemovalPolicy.RETAIN)
        region = stack.region
        upload_sources = [f"https://{uploads.bucket_name}.s3.{region}.amazonaws.com",
                          f"https://s3.{region}.amazonaws.com/{uploads.bucket_name}/"]
        self.headers = cloudfront.ResponseHeadersPolicy(
            self, "Headers", comment="Hadir PWA: strict security headers and CSP",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.seconds(HSTS_MAX_AGE_S),
                    include_subdomains=True, preload=True, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(upload_sources, list(tile_sources)),
                    override=True)),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(custom_headers=[
                cloudfront.ResponseCustomHeader(header="Permissions-Policy", value=PERMISSIONS_POLICY,
                                                override=True),
                cloudfront.ResponseCustomHeader(header="Cross-Origin-Opener-Policy", value="same-origin",
                                                override=True)]))
        api_origin = origins.HttpOrigin(
            f"{rest_api_id}.execute-api.{region}.{stack.url_suffix}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2])
        self.distribution = cloudfront.Distribution(
            self, "Distribution", comment="Hadir PWA and its API (same origin)",
            default_root_object="index.html", http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers, compress=True),
            additional_behaviors={API_PATH: cloudfront.BehaviorOptions(
                origin=api_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=self.headers, compress=True)})
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self._deploy(web_dir)

    def _deploy(self, web_dir: Path) -> None:
        """The app's files and its config.js, when web/ exists at synth time."""
        if not (web_dir / "index.html").is_file():
            cdk.Annotations.of(self).add_info(
                f"{web_dir} has no index.html: the web app's files are not deployed (the bucket "
                "and the distribution are); build web/ and synthesize again")
            self.deployment = None
            return
        self.deployment = s3deploy.BucketDeployment(
            self, "Files", destination_bucket=self.bucket,
            sources=[s3deploy.Source.asset(str(web_dir), exclude=["config.js", "node_modules", "*.map"]),
                     s3deploy.Source.data("config.js", config_js())],
            distribution=self.distribution, distribution_paths=["/*"], prune=True,
            memory_limit=256)
