using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// A body declared (<c>Content-Length</c>) past <see cref="ApiOptions.MaxRequestBodyBytes"/> (an
/// endpoint's own limit where it sets one, <see cref="BodyLimit"/>: batches) is
/// answered 413 problem JSON before any of it is read. Most clients (httpx, PraisonAI's) write the whole
/// body before they read an answer: had the server closed at the limit, they would meet a broken pipe
/// and never see the 413. So up to <see cref="DrainFactor"/> times the limit, Kestrel is let to read and
/// discard the rest after the answer (its request draining, bounded by its own 5 s), and the client then
/// reads the 413 like any answer; past that the connection is closed, as before.
/// </summary>
internal static class DeclaredBodyLimit
{
    /// <summary>How many times the body limit a declared body may be to be read and discarded rather than cut off.</summary>
    public const int DrainFactor = 8;

    public static IApplicationBuilder UseDeclaredBodyLimit(this IApplicationBuilder app)
    {
        var common = app.ApplicationServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxRequestBodyBytes;
        return app.Use(next => context =>
        {
            var declared = context.Request.ContentLength;
            if (declared <= common || (declared is null && !HttpMethods.IsPost(context.Request.Method)))
            {
                return next(context); // no state machine on the way through: every submit and read passes here
            }

            var limit = context.GetEndpoint()?.Metadata.GetMetadata<BodyLimit>()?.MaxRequestBodySize ?? common;
            var size = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
            if (limit != common && size is { IsReadOnly: false })
            {
                size.MaxRequestBodySize = limit; // a chunked body too: Kestrel stops it past the endpoint's limit
            }

            if (declared is null || declared <= limit)
            {
                return next(context);
            }

            if (declared / DrainFactor <= limit && size is { IsReadOnly: false })
            {
                size.MaxRequestBodySize = declared; // not read here: drained by Kestrel once answered
            }

            return context.WriteProblemAsync(StatusCodes.Status413PayloadTooLarge, TooLarge(limit, limit == common ? "Api:MaxRequestBodyBytes" : "Api:MaxBatchBodyBytes"));
        });
    }

    /// <summary>The 413's detail.</summary>
    public static string TooLarge(long limit, string setting = "Api:MaxRequestBodyBytes") => $"Request body too large: the limit is {limit} bytes ({setting}).";
}

/// <summary>
/// An endpoint's body limit in place of <see cref="ApiOptions.MaxRequestBodyBytes"/>, applied by
/// <see cref="DeclaredBodyLimit"/> to declared and chunked bodies alike.
/// </summary>
internal sealed class BodyLimit(long maxRequestBodySize)
{
    public long MaxRequestBodySize { get; } = maxRequestBodySize;
}
