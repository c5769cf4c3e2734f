/// The live dashboard: one page, no build step, no external assets. It reads `/stats.json`
/// every second and shows req/s, the hit ratio, the response-time histogram (hits and misses
/// apart), bytes out, backend health, storage use and the top missed URLs. Each figure has an
/// id (`reqs`, `hitratio`, `bytesout`, `storage`, `backends`, `missed`, `histogram`,
/// `requests`) so that a test can read what the page shows.
enum Dashboard {
    static let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Shellac</title>
        <style>
        body{font:14px system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
        h1{font-size:1.3em;margin:0 0 1em}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(12em,1fr));gap:1em}
        .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em}
        .card b{display:block;font-size:1.8em;margin-top:.2em}
        .wide{grid-column:1/-1}
        .bars{display:flex;align-items:flex-end;gap:2px;height:120px}
        .bars div{flex:1;background:#4a7;min-height:1px}
        .bars div.miss{background:#d84}
        table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:2px 6px;border-bottom:1px solid #eee}
        .up{color:#070}.down{color:#b00;font-weight:bold}
        small{color:#777}
        </style></head><body>
        <h1>Shellac <small id="uptime"></small></h1>
        <div class="grid">
        <div class="card">Requests/s<b id="reqs">–</b></div>
        <div class="card">Hit ratio<b id="hitratio">–</b></div>
        <div class="card">Bytes out/s<b id="bytesout">–</b></div>
        <div class="card">Storage used<b id="storage">–</b></div>
        <div class="card">Requests<b id="requests">–</b></div>
        <div class="card wide">Response time (log scale; <span style="color:#4a7">hits</span>, <span style="color:#d84">misses</span>)
          <div class="bars" id="histogram"></div><small id="bounds"></small></div>
        <div class="card">Backends<table id="backends"></table></div>
        <div class="card wide">Top missed URLs<table id="missed"></table></div>
        </div>
        <script>
        function human(n){const u=['','k','M','G','T'];let i=0;while(n>=1000&&i<4){n/=1000;i++}return (i?n.toFixed(1):Math.round(n))+u[i]}
        function text(s){const d=document.createElement('div');d.textContent=s;return d.innerHTML}
        async function tick(){
          let s;
          try{s=await (await fetch('stats.json',{cache:'no-store'})).json()}catch(e){return}
          const c=s.counters, r=s.rates;
          // Rates over the server's last second; the hit ratio since the start when that
          // second had no lookups.
          document.getElementById('reqs').textContent=human(r.requests);
          const allHit=c['MAIN.cache_hit'], allMiss=c['MAIN.cache_miss'];
          document.getElementById('hitratio').textContent=(r.hitratio!==null?r.hitratio.toFixed(1):allHit+allMiss>0?(100*allHit/(allHit+allMiss)).toFixed(1):'0.0')+'%';
          document.getElementById('bytesout').textContent=human(r.bytes)+'B';
          const used=c['SMA.s0.g_bytes'], total=used+c['SMA.s0.g_space'];
          document.getElementById('storage').textContent=human(used)+'B / '+human(total)+'B';
          document.getElementById('requests').textContent=c['MAIN.client_req'];
          document.getElementById('uptime').textContent='up '+c['MAIN.uptime']+' s, '+c['MAIN.n_object']+' objects';
          const h=s.histograms, bars=[];
          let max=1;
          const per=(k)=>h[k].buckets.map((v,i)=>v-(i?h[k].buckets[i-1]:0));
          const hits=per('hit'), misses=per('miss');
          for(const v of hits.concat(misses)) max=Math.max(max,v);
          for(let i=0;i<hits.length;i++){
            bars.push('<div title="≤'+s.bounds[i]+'s hits: '+hits[i]+'" style="height:'+(100*hits[i]/max)+'%"></div>');
            bars.push('<div class="miss" title="≤'+s.bounds[i]+'s misses: '+misses[i]+'" style="height:'+(100*misses[i]/max)+'%"></div>');
          }
          document.getElementById('histogram').innerHTML=bars.join('');
          document.getElementById('bounds').textContent=s.bounds[0]+'s … '+s.bounds[s.bounds.length-1]+'s';
          document.getElementById('backends').innerHTML=s.backends.map(b=>'<tr><td>'+text(b.name)+'</td><td class="'+(b.healthy?'up">healthy':'down">sick')+'</td></tr>').join('');
          document.getElementById('missed').innerHTML=s.missed.map(m=>'<tr><td>'+text(m.url)+'</td><td>'+m.misses+'</td></tr>').join('')||'<tr><td><small>none yet</small></td></tr>';
        }
        tick();setInterval(tick,1000);
        </script></body></html>

        """
}
