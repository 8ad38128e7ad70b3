//! The music library over REST with a real daemon: two vaults of tagged
//! WAVs read by the worker, then artists, albums, songs, genres, search,
//! prefs, play events, radio and a deletion, checked as a client sees them;
//! and `fully_local`/`only_local` with two daemons sharing a vault.

use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error, eventually};
use crate::media_support::{TrackTags, media_node, new_vault, png, put_file, tagged_wav};

struct T {
    path: &'static str,
    title: &'static str,
    artist: &'static str,
    album: &'static str,
    track: u32,
    disc: Option<u32>,
    year: u16,
    genre: &'static str,
    cover: bool,
}

const fn t(
    path: &'static str,
    title: &'static str,
    artist: &'static str,
    album: &'static str,
    track: u32,
    year: u16,
    genre: &'static str,
) -> T {
    T {
        path,
        title,
        artist,
        album,
        track,
        disc: None,
        year,
        genre,
        cover: false,
    }
}

fn bytes(x: &T, freq: f32) -> Vec<u8> {
    let mut tags = TrackTags::new(x.title, x.artist, x.album);
    tags.track = Some(x.track);
    tags.disc = x.disc;
    tags.year = Some(x.year);
    tags.genre = Some(x.genre.into());
    if x.cover {
        tags.cover = Some(png());
    }
    tagged_wav(0.2, freq, &tags)
}

fn titles(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn ok(d: &TestDaemon, t: &str, path: &str) -> Value {
    let r = d.get_auth(path, t).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn library_views_search_prefs_plays_and_radio_over_two_vaults() {
    let (d, tok, va) = media_node("Music").await;
    let vb = new_vault(&d, &tok, "More music").await;
    let mut a = vec![
        t(
            "/abba/dq.wav",
            "Dancing Queen",
            "ABBA",
            "Arrival",
            2,
            1976,
            "Pop",
        ),
        t(
            "/abba/money.wav",
            "Money, Money, Money",
            "ABBA",
            "Arrival",
            1,
            1976,
            "Pop",
        ),
        t(
            "/abba/knowing.wav",
            "Knowing Me",
            "ABBA",
            "Arrival",
            3,
            1976,
            "Pop",
        ),
        t(
            "/abba/waterloo.wav",
            "Waterloo",
            "ABBA",
            "Waterloo",
            1,
            1974,
            "Pop",
        ),
        t(
            "/b/heroes.wav",
            "Héroes",
            "Beyoncé",
            "Lemonade",
            1,
            2016,
            "R&B",
        ),
        t(
            "/no/blue.wav",
            "Blue Monday",
            "New Order",
            "Power",
            1,
            1983,
            "Electronic",
        ),
    ];
    a[0].cover = true;
    let mut b = vec![
        t(
            "/aha.wav",
            "Take On Me",
            "a-ha",
            "Hunting High",
            1,
            1985,
            "Pop",
        ),
        t(
            "/tribute.wav",
            "abba tribute",
            "abba",
            "Gold",
            1,
            1992,
            "Pop",
        ),
        t(
            "/arrival-2.wav",
            "Disc Two Song",
            "ABBA",
            "Arrival",
            1,
            1976,
            "pop",
        ),
        t("/zed.wav", "Unrelated", "Zed", "Far", 1, 2020, "Metal"),
    ];
    b[2].disc = Some(2);
    let mut freq = 300.0;
    for x in &a {
        freq += 37.0;
        put_file(&d, &tok, &va, x.path, &bytes(x, freq)).await;
    }
    for x in &b {
        freq += 37.0;
        put_file(&d, &tok, &vb, x.path, &bytes(x, freq)).await;
    }
    // A file that is not media stays out.
    put_file(&d, &tok, &va, "/notes.txt", b"not music").await;

    eventually("the library has every track, read", || async {
        let s = ok(&d, &tok, "/library/songs?limit=1000").await;
        let all = s["songs"].as_array().unwrap();
        (s["total"] == 10 && all.iter().all(|x| x["status"] == "ready")).then_some(())
    })
    .await;

    // Songs: both vaults together, sorted and paged.
    let s = ok(&d, &tok, "/library/songs?sort=title").await;
    assert_eq!(
        titles(&s["songs"]),
        [
            "abba tribute",
            "Blue Monday",
            "Dancing Queen",
            "Disc Two Song",
            "Héroes",
            "Knowing Me",
            "Money, Money, Money",
            "Take On Me",
            "Unrelated",
            "Waterloo"
        ]
    );
    assert_eq!(
        (s["offset"].as_i64(), s["limit"].as_i64()),
        (Some(0), Some(100))
    );
    let vaults: std::collections::HashSet<_> = s["songs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["vault_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(vaults, [va.clone(), vb.clone()].into_iter().collect());
    let page = ok(&d, &tok, "/library/songs?sort=title&limit=3&offset=3").await;
    assert_eq!(page["total"], 10);
    assert_eq!(page["offset"], 3);
    assert_eq!(page["limit"], 3);
    assert_eq!(
        titles(&page["songs"]),
        ["Disc Two Song", "Héroes", "Knowing Me"]
    );
    let desc = ok(&d, &tok, "/library/songs?sort=year&order=desc&limit=2").await;
    assert_eq!(titles(&desc["songs"]), ["Unrelated", "Héroes"]);
    let by_genre = ok(&d, &tok, "/library/songs?genre=pop&sort=title").await;
    assert_eq!(by_genre["total"], 7);
    let dq = s["songs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "Dancing Queen")
        .unwrap()
        .clone();
    for field in [
        "vault_id",
        "file_id",
        "path",
        "kind",
        "title",
        "artist",
        "album_artist",
        "album",
        "album_key",
        "track_no",
        "disc_no",
        "year",
        "genre",
        "duration_ms",
        "cover_hash",
        "size",
        "local",
        "status",
        "play_count",
        "skip_count",
        "last_played_ms",
        "rating",
        "skip",
    ] {
        assert!(dq.get(field).is_some(), "Song lacks {field}: {dq}");
    }
    assert_eq!(dq["kind"], "audio");
    assert_eq!(dq["local"], true);
    assert_eq!(dq["year"], 1976);
    assert_eq!(dq["track_no"], 2);
    assert!(dq["cover_hash"].is_string());
    assert!(dq["duration_ms"].as_i64().unwrap() > 100);

    // Artists: grouped case-insensitively, A to Z, paged.
    let ar = ok(&d, &tok, "/library/artists").await;
    assert_eq!(ar["total"], 5);
    let names: Vec<_> = ar["artists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(names, ["a-ha", "abba", "beyoncé", "new order", "zed"]);
    let abba = &ar["artists"][1];
    assert_eq!(abba["track_count"], 6);
    assert_eq!(abba["album_count"], 3);
    assert_eq!(abba["cover_hash"], dq["cover_hash"]);
    assert_eq!(abba["cover_vault_id"], va.as_str());
    let ar2 = ok(&d, &tok, "/library/artists?limit=2&offset=2").await;
    assert_eq!(ar2["total"], 5);
    assert_eq!(ar2["artists"].as_array().unwrap().len(), 2);
    assert_eq!(ar2["artists"][0]["name"], "Beyoncé");

    let one = ok(&d, &tok, "/library/artists/abba").await;
    assert_eq!(one["track_count"], 6);
    assert_eq!(one["albums"].as_array().unwrap().len(), 3);
    assert_eq!(one["songs"].as_array().unwrap().len(), 6);
    let one = ok(&d, &tok, "/library/artists/Beyonc%C3%A9").await;
    assert_eq!(one["name"], "Beyoncé");
    assert_eq!(titles(&one["songs"]), ["Héroes"]);
    assert_error(d.get_auth("/library/artists/Nobody", &tok).await, 404).await;

    // Albums and a tracklist in disc, track order across both vaults.
    let al = ok(&d, &tok, "/library/albums").await;
    assert_eq!(al["total"], 7);
    assert_eq!(
        titles(&al["albums"]),
        [
            "Arrival",
            "Far",
            "Gold",
            "Hunting High",
            "Lemonade",
            "Power",
            "Waterloo"
        ]
    );
    let arrival = al["albums"][0].clone();
    assert_eq!(arrival["artist"], "ABBA");
    assert_eq!(arrival["song_count"], 4);
    assert_eq!(arrival["local_count"], 4);
    assert_eq!(arrival["year"], 1976);
    assert_eq!(arrival["cover_hash"], dq["cover_hash"]);
    assert_eq!(arrival["cover_vault_id"], va.as_str());
    assert!(arrival["duration_ms"].as_i64().unwrap() >= 4 * 150);
    let by_year = ok(&d, &tok, "/library/albums?sort=year&limit=2").await;
    assert_eq!(titles(&by_year["albums"]), ["Far", "Lemonade"]);
    let key = arrival["key"].as_str().unwrap();
    let detail = ok(&d, &tok, &format!("/library/albums/{key}")).await;
    assert_eq!(detail["title"], "Arrival");
    assert_eq!(
        titles(&detail["songs"]),
        [
            "Money, Money, Money",
            "Dancing Queen",
            "Knowing Me",
            "Disc Two Song"
        ]
    );
    assert_error(
        d.get_auth(&format!("/library/albums/{}", "0".repeat(24)), &tok)
            .await,
        404,
    )
    .await;
    let in_album = ok(&d, &tok, &format!("/library/songs?album_key={key}")).await;
    assert_eq!(in_album["total"], 4);

    // Genres: a histogram, most tracks first, case-insensitive.
    let g = ok(&d, &tok, "/library/genres").await;
    assert_eq!(
        g["genres"],
        json!([
            {"name": "Pop", "track_count": 7},
            {"name": "Electronic", "track_count": 1},
            {"name": "Metal", "track_count": 1},
            {"name": "R&B", "track_count": 1},
        ])
    );

    // Search: prefixes, accents either way, and FTS5 syntax as plain text.
    let r = ok(&d, &tok, "/library/search?q=danc").await;
    assert_eq!(r["q"], "danc");
    assert_eq!(titles(&r["songs"]), ["Dancing Queen"]);
    let r = ok(&d, &tok, "/library/search?q=beyonce").await;
    assert_eq!(titles(&r["songs"]), ["Héroes"]);
    assert_eq!(r["artists"][0]["name"], "Beyoncé");
    let r = ok(&d, &tok, "/library/search?q=H%C3%A9ro").await;
    assert_eq!(titles(&r["songs"]), ["Héroes"]);
    let r = ok(&d, &tok, "/library/search?q=abba%20arr").await;
    assert_eq!(r["songs"].as_array().unwrap().len(), 4);
    assert_eq!(titles(&r["albums"]), ["Arrival"]);
    let r = ok(&d, &tok, "/library/search?q=abba").await;
    assert_eq!(r["artists"].as_array().unwrap().len(), 1);
    assert_eq!(r["artists"][0]["track_count"], 6);
    assert_eq!(r["albums"].as_array().unwrap().len(), 3);
    for q in [
        "%22a%22%20OR%20b*%20NEAR(",
        "%22",
        "*",
        "NOT",
        "a%20AND%20(b",
        "title%3Awaterloo",
        "%7Btitle%7D%20%3A%20x",
        "-",
    ] {
        let r = ok(&d, &tok, &format!("/library/search?q={q}")).await;
        assert!(r["songs"].is_array(), "{q}: {r}");
    }
    let r = ok(&d, &tok, "/library/search?q=waterloo%20OR").await;
    assert_eq!(r["songs"].as_array().unwrap().len(), 0, "OR is a word here");

    // Prefs round-trip.
    let kn = s["songs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "Knowing Me")
        .unwrap()
        .clone();
    let prefs_path = format!(
        "/library/prefs/{}/{}",
        kn["vault_id"].as_str().unwrap(),
        kn["file_id"].as_str().unwrap()
    );
    let p = ok(&d, &tok, &prefs_path).await;
    assert_eq!(
        p,
        json!({"vault_id": kn["vault_id"], "file_id": kn["file_id"], "rating": null,
               "skip": false, "play_count": 0, "skip_count": 0, "last_played_ms": null})
    );
    let r = d.put_auth(&prefs_path, &tok, json!({"rating": 4})).await;
    assert_eq!(r.status(), 200);
    let r = d.put_auth(&prefs_path, &tok, json!({"skip": true})).await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["rating"].as_i64(), p["skip"].as_bool()),
        (Some(4), Some(true))
    );
    let p = ok(&d, &tok, &prefs_path).await;
    assert_eq!(
        (p["rating"].as_i64(), p["skip"].as_bool()),
        (Some(4), Some(true))
    );
    let listed = ok(&d, &tok, "/library/songs?sort=title&limit=1&offset=5").await;
    assert_eq!(listed["songs"][0]["rating"], 4);
    assert_eq!(listed["songs"][0]["skip"], true);
    for bad in [
        json!({"rating": 6}),
        json!({"rating": -1}),
        json!({"rating": "4"}),
        json!({"skip": "yes"}),
        json!({"colour": 1}),
    ] {
        assert_error(d.put_auth(&prefs_path, &tok, bad).await, 400).await;
    }
    assert_error(
        d.get_auth(&format!("/library/prefs/{va}/{}", "0".repeat(32)), &tok)
            .await,
        404,
    )
    .await;
    assert_error(
        d.get_auth(&format!("/library/prefs/{va}/ABC"), &tok).await,
        400,
    )
    .await;

    // Play events drive counts and sort=plays; unknown files are skipped.
    let id_of = |title: &str| {
        let x = s["songs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["title"] == title)
            .unwrap();
        (
            x["vault_id"].as_str().unwrap().to_owned(),
            x["file_id"].as_str().unwrap().to_owned(),
        )
    };
    let (wv, wf) = id_of("Waterloo");
    let (tv, tf) = id_of("Take On Me");
    let (bv, bf) = id_of("Blue Monday");
    let play = |v: &str, f: &str, kind: &str| json!({"vault_id": v, "file_id": f, "kind": kind});
    let r = d
        .post_auth(
            "/play-events",
            &tok,
            json!({"events": [play(&wv, &wf, "play"), play(&wv, &wf, "play"), play(&tv, &tf, "play"),
                              play(&va, &"0".repeat(32), "play")]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"accepted": 3, "skipped": 1})
    );
    let r = d
        .post_auth("/play-events", &tok, json!([play(&bv, &bf, "skip")]))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["accepted"], 1);
    let mut one = play(&wv, &wf, "play");
    one["position_ms"] = json!(1200);
    one["ts_ms"] = json!(1_700_000_000_000i64);
    let r = d.post_auth("/play-events", &tok, one).await;
    assert_eq!(r.json::<Value>().await.unwrap()["accepted"], 1);
    let top = ok(&d, &tok, "/library/songs?sort=plays&limit=2").await;
    assert_eq!(titles(&top["songs"]), ["Waterloo", "Take On Me"]);
    assert_eq!(top["songs"][0]["play_count"], 3);
    assert!(top["songs"][0]["last_played_ms"].as_i64().unwrap() > 1_700_000_000_000);
    let bp = ok(&d, &tok, &format!("/library/prefs/{bv}/{bf}")).await;
    assert_eq!(
        (bp["play_count"].as_i64(), bp["skip_count"].as_i64()),
        (Some(0), Some(1))
    );
    for bad in [
        json!({"events": [{"vault_id": wv, "file_id": wf, "kind": "listen"}]}),
        json!({"events": [{"vault_id": wv, "file_id": "xyz", "kind": "play"}]}),
        json!({"events": [{"vault_id": wv, "file_id": wf, "kind": "play", "position_ms": -5}]}),
        json!({"events": [{"vault_id": wv, "file_id": wf, "kind": "play", "ts_ms": 99_999_999_999_999i64}]}),
        json!({"events": "play"}),
        json!(42),
    ] {
        assert_error(d.post_auth("/play-events", &tok, bad).await, 400).await;
    }
    let many: Vec<Value> = (0..1001).map(|_| play(&wv, &wf, "play")).collect();
    // Over 1000 events is refused (here by the JSON body limit first).
    let r = d.post_auth("/play-events", &tok, json!(many)).await;
    assert!([400, 413].contains(&r.status().as_u16()), "{}", r.status());

    // Radio from Dancing Queen: the other ABBA tracks first (artist, genre
    // and era shared), then the tribute (artist and genre), then the pop
    // track of another era; never the seed or the track marked skip.
    let (dv, df) = id_of("Dancing Queen");
    let r = d
        .post_auth(
            "/library/radio",
            &tok,
            json!({"vault_id": dv, "file_id": df}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let radio: Value = r.json().await.unwrap();
    assert_eq!(radio["seed"]["title"], "Dancing Queen");
    let q = titles(&radio["songs"]);
    assert!(!q.contains(&"Dancing Queen".to_owned()), "{q:?}");
    assert!(!q.contains(&"Knowing Me".to_owned()), "{q:?}");
    let mut first3 = q[..3].to_vec();
    first3.sort();
    assert_eq!(first3, ["Disc Two Song", "Money, Money, Money", "Waterloo"]);
    assert_eq!(q[3], "abba tribute");
    assert_eq!(q[4], "Take On Me");
    assert_eq!(q.len(), 8, "{q:?}");
    // The same seed gives the same queue; `seed` form and limit work.
    let again: Value = d
        .post_auth(
            "/library/radio?only_local=true",
            &tok,
            json!({"seed": {"vault_id": dv, "file_id": df}, "limit": 2}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&again["songs"]), q[..2].to_vec());
    assert_error(
        d.post_auth(
            "/library/radio",
            &tok,
            json!({"vault_id": dv, "file_id": "0".repeat(32)}),
        )
        .await,
        404,
    )
    .await;
    for bad in [
        json!({"vault_id": dv, "file_id": df, "limit": 0}),
        json!({"vault_id": dv, "file_id": df, "limit": 201}),
        json!({"vault_id": dv}),
        json!({"vault_id": dv, "file_id": df, "mood": "happy"}),
    ] {
        assert_error(d.post_auth("/library/radio", &tok, bad).await, 400).await;
    }

    // Bad parameters: 400 in the error shape.
    for bad in [
        "/library/songs?limit=0",
        "/library/songs?limit=1001",
        "/library/songs?offset=-1",
        "/library/songs?sort=colour",
        "/library/songs?order=sideways",
        "/library/songs?album_key=nope",
        "/library/songs?fully_local=maybe",
        "/library/albums?sort=plays",
        "/library/albums?limit=abc",
        "/library/artists?limit=0",
        "/library/albums/not-a-key",
        "/library/search",
        "/library/search?q=",
        "/library/genres?fully_local=2",
    ] {
        assert_error(d.get_auth(bad, &tok).await, 400).await;
    }
    let long = "a".repeat(201);
    assert_error(
        d.get_auth(&format!("/library/search?q={long}"), &tok).await,
        400,
    )
    .await;
    let r = d.get("/library/songs").await;
    assert_eq!(r.status(), 401);

    // A deleted file leaves the library.
    let r = d
        .delete_auth(&format!("/vaults/{vb}/files/zed.wav"), &tok)
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    eventually("the deleted track to leave the library", || async {
        let s = ok(&d, &tok, "/library/songs").await;
        (s["total"] == 9).then_some(())
    })
    .await;
    let ar = ok(&d, &tok, "/library/artists").await;
    assert_eq!(ar["total"], 4);
    let al = ok(&d, &tok, "/library/albums").await;
    assert_eq!(al["total"], 6);
    assert_error(d.get_auth("/library/artists/Zed", &tok).await, 404).await;
}

/// Two daemons share a vault over the mesh on loopback: the member that
/// joined lists the shared vault's tracks with its own. Where it does not
/// hold a track's blocks (yet), `fully_local` and `only_local` leave the
/// track out; where it holds them all, everything stays in.
#[tokio::test]
async fn fully_local_hides_tracks_whose_blocks_are_elsewhere() {
    use crate::mesh::Node;
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
    let vid = a.create_vault("Shared music", 1).await;
    let one = TrackTags {
        year: Some(1990),
        genre: Some("Jazz".into()),
        ..TrackTags::new("Remote One", "Quartet", "Far Away")
    };
    let two = TrackTags {
        year: Some(1991),
        genre: Some("Jazz".into()),
        ..TrackTags::new("Remote Two", "Quartet", "Far Away")
    };
    a.put(&vid, "/one.wav", &tagged_wav(0.2, 440.0, &one)).await;
    a.put(&vid, "/two.wav", &tagged_wav(0.2, 550.0, &two)).await;
    a.share_and_join(&vid, &[&b]).await;
    // B's own vault, with a track it holds.
    let own = new_vault(&b.d, &b.token, "Mine").await;
    let mine = TrackTags {
        year: Some(1992),
        genre: Some("Jazz".into()),
        ..TrackTags::new("Local One", "Quartet", "Close By")
    };
    put_file(
        &b.d,
        &b.token,
        &own,
        "/local.wav",
        &tagged_wav(0.2, 660.0, &mine),
    )
    .await;

    let songs = eventually("B's library lists all three tracks", || async {
        let s = ok(&b.d, &b.token, "/library/songs?limit=1000").await;
        (s["total"] == 3).then_some(s)
    })
    .await;
    let local: Vec<_> = songs["songs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["local"] == true)
        .map(|s| s["title"].as_str().unwrap().to_owned())
        .collect();
    if local.len() == 3 {
        // The joined member replicated every block: nothing is remote, so
        // fully_local and only_local leave everything in.
        eprintln!("NOTE: the joined member holds every block; fully_local shows all");
        let s = ok(&b.d, &b.token, "/library/songs?fully_local=true").await;
        assert_eq!(s["total"], 3);
        let al = ok(&b.d, &b.token, "/library/albums?fully_local=true").await;
        assert_eq!(al["total"], 2);
        let far = al["albums"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["title"] == "Far Away")
            .unwrap();
        assert_eq!(far["local_count"], 2);
        return;
    }
    let remote = songs["songs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local"] == false)
        .unwrap()
        .clone();
    assert_eq!(remote["status"], "remote");
    let n_local = local.len() as i64;
    let s = ok(&b.d, &b.token, "/library/songs?fully_local=true").await;
    assert_eq!(s["total"], n_local);
    assert!(
        s["songs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["local"] == true)
    );
    let al = ok(&b.d, &b.token, "/library/albums").await;
    let far = al["albums"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "Far Away")
        .unwrap();
    assert!(far["local_count"].as_i64().unwrap() < far["song_count"].as_i64().unwrap());
    let al = ok(&b.d, &b.token, "/library/albums?fully_local=true").await;
    assert!(
        al["albums"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["local_count"] == x["song_count"])
    );
    let ar = ok(&b.d, &b.token, "/library/artists?fully_local=true").await;
    assert_eq!(ar["artists"][0]["track_count"], n_local);
    let g = ok(&b.d, &b.token, "/library/genres?fully_local=true").await;
    assert_eq!(g["genres"][0]["track_count"], n_local);
    // Radio from the local track: only_local leaves the remote ones out.
    let seed = json!({"vault_id": own, "file_id": songs["songs"].as_array().unwrap().iter()
        .find(|x| x["title"] == "Local One").unwrap()["file_id"]});
    let all: Value = b.post_ok("/library/radio", seed.clone()).await;
    assert_eq!(all["songs"].as_array().unwrap().len(), 2);
    let only: Value = b.post_ok("/library/radio?only_local=true", seed).await;
    assert!(
        only["songs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["local"] == true)
    );
    assert_eq!(only["songs"].as_array().unwrap().len() as i64, n_local - 1);
}
